package gbdt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
)

// Format is the text layout of a data file.
type Format int

const (
	// FormatTSV is a dense table, label first, separated by tabs, commas or spaces.
	FormatTSV Format = iota
	// FormatLibSVM is "label idx:val idx:val ...", absent features being 0.
	FormatLibSVM
)

func (f Format) String() string {
	if f == FormatLibSVM {
		return "libsvm"
	}
	return "tsv"
}

// Dataset is a dense feature matrix with labels and optional query groups, as read from a
// LightGBM training file.
type Dataset struct {
	NumRows     int
	NumFeatures int
	// X is row-major, NumRows×NumFeatures; NaN means missing.
	X      []float64
	Labels []float64
	// Groups holds the query group sizes in row order (nil when the data has none).
	Groups []int
	// FeatureNames is optional; the model writes Column_<i> when it is empty.
	FeatureNames []string
	// Weights, when not nil, weigh each row's gradient and hessian (LightGBM's sample weights,
	// e.g. inverse propensities); the binary objective's initial score is the weighted mean
	// label. Validation metrics ignore them.
	Weights []float64

	// Source and Lines locate rows for error messages: row i came from Source:Lines[i].
	Source string
	Lines  []int
	Format Format
}

// Row returns the features of row i (a view into X).
func (d *Dataset) Row(i int) []float64 {
	return d.X[i*d.NumFeatures : (i+1)*d.NumFeatures]
}

// where names the file and line of row i for error messages.
func (d *Dataset) where(i int) string {
	src := d.Source
	if src == "" {
		src = "data"
	}
	if i >= 0 && i < len(d.Lines) {
		return fmt.Sprintf("%s:%d", src, d.Lines[i])
	}
	return fmt.Sprintf("%s: row %d", src, i+1)
}

// Validate checks shapes and the group sizes.
func (d *Dataset) Validate() error {
	if d.NumRows <= 0 || d.NumFeatures <= 0 {
		return fmt.Errorf("%s: empty dataset (%d rows, %d features)", d.Source, d.NumRows, d.NumFeatures)
	}
	if len(d.X) != d.NumRows*d.NumFeatures {
		return fmt.Errorf("%s: len(X)=%d, want %d×%d", d.Source, len(d.X), d.NumRows, d.NumFeatures)
	}
	if len(d.Labels) != d.NumRows {
		return fmt.Errorf("%s: %d labels for %d rows", d.Source, len(d.Labels), d.NumRows)
	}
	if d.Groups != nil {
		sum := 0
		for i, g := range d.Groups {
			if g <= 0 {
				return fmt.Errorf("%s.query:%d: group size %d must be positive", d.Source, i+1, g)
			}
			sum += g
		}
		if sum != d.NumRows {
			return fmt.Errorf("%s.query: group sizes sum to %d but %s has %d rows", d.Source, sum, d.Source, d.NumRows)
		}
	}
	if d.Weights != nil {
		if len(d.Weights) != d.NumRows {
			return fmt.Errorf("%s: %d weights for %d rows", d.Source, len(d.Weights), d.NumRows)
		}
		for i, w := range d.Weights {
			if !(w >= 0) || math.IsInf(w, 0) {
				return fmt.Errorf("%s: weight %v, want a finite number ≥ 0", d.where(i), w)
			}
		}
	}
	if len(d.FeatureNames) != 0 && len(d.FeatureNames) != d.NumFeatures {
		return fmt.Errorf("%s: %d feature names for %d features", d.Source, len(d.FeatureNames), d.NumFeatures)
	}
	return nil
}

// WithFeatures returns the dataset with exactly nf feature columns: libsvm data (where absent
// features are 0) is padded with zeros or cut; dense data must already have nf columns.
func (d *Dataset) WithFeatures(nf int) (*Dataset, error) {
	if nf == d.NumFeatures {
		return d, nil
	}
	if d.Format != FormatLibSVM || nf <= 0 {
		return nil, fmt.Errorf("%s has %d features per row, want %d", d.Source, d.NumFeatures, nf)
	}
	out := *d
	out.NumFeatures = nf
	out.X = make([]float64, d.NumRows*nf)
	w := min(nf, d.NumFeatures)
	for r := 0; r < d.NumRows; r++ {
		copy(out.X[r*nf:r*nf+w], d.X[r*d.NumFeatures:r*d.NumFeatures+w])
	}
	if len(d.FeatureNames) > 0 {
		out.FeatureNames = nil
	}
	return &out, nil
}

// ReadOptions tune ReadDataset.
type ReadOptions struct {
	// MinFeatures pads narrower libsvm data with zero columns (a model may use feature indices
	// that a test file never mentions).
	MinFeatures int
	// RequireGroups fails when no query groups are found.
	RequireGroups bool
}

// ReadDataset reads a LightGBM data file (TSV or libsvm, detected from the first data line) and
// the group sizes in path+".query" when that file exists.
func ReadDataset(path string, opt ReadOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := ReadData(f, path, opt.MinFeatures)
	if err != nil {
		return nil, err
	}
	qpath := path + ".query"
	q, err := os.Open(qpath)
	switch {
	case err == nil:
		defer q.Close()
		groups, err := ReadGroups(q, qpath)
		if err != nil {
			return nil, err
		}
		d.Groups = groups
	case errors.Is(err, fs.ErrNotExist):
		// No .query file: keep groups taken from libsvm qid: tokens, if any.
	default:
		return nil, err
	}
	if opt.RequireGroups && d.Groups == nil {
		return nil, fmt.Errorf("%s: no query groups: write the group sizes to %s (one per line)", path, qpath)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// ReadGroups reads a .query file: one positive group size per line.
func ReadGroups(r io.Reader, name string) ([]int, error) {
	var groups []int
	err := eachLine(r, name, func(line int, s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s:%d: group size %q is not a positive integer", name, line, s)
		}
		groups = append(groups, n)
		return nil
	})
	return groups, err
}

// ReadScores reads one score per line, the line's first field (LightGBM's prediction files).
func ReadScores(r io.Reader, name string) ([]float64, error) {
	var scores []float64
	err := eachLine(r, name, func(line int, s string) error {
		v, err := strconv.ParseFloat(strings.Fields(s)[0], 64)
		if err != nil {
			return fmt.Errorf("%s:%d: score %q is not a number", name, line, s)
		}
		scores = append(scores, v)
		return nil
	})
	return scores, err
}

// eachLine calls fn with every non-empty line of r, trimmed, and its 1-based number.
func eachLine(r io.Reader, name string, fn func(line int, s string) error) error {
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		if s := strings.TrimSpace(sc.Text()); s != "" {
			if err := fn(line, s); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// ReadData parses TSV or libsvm rows from r; name is used in errors. Groups are filled from
// libsvm qid: tokens when present (runs of equal qid), not from a .query file.
func ReadData(r io.Reader, name string, minFeatures int) (*Dataset, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	d := &Dataset{Source: name, Format: -1}
	var p parser
	line := 0
	for {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Long line: fall back to an accumulating read.
			rest, err2 := br.ReadBytes('\n')
			raw = append(append([]byte(nil), raw...), rest...)
			err = err2
		}
		if len(raw) > 0 {
			line++
			s := bytes.TrimRight(raw, "\r\n")
			if len(bytes.TrimSpace(s)) != 0 {
				if d.Format < 0 {
					d.Format = detectFormat(s)
					p.init(d.Format, s)
				}
				if perr := p.parse(d, s, line); perr != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, line, perr)
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if d.NumRows == 0 {
		return nil, fmt.Errorf("%s: no data rows", name)
	}
	p.finish(d, minFeatures)
	return d, nil
}

// detectFormat calls a line libsvm when its second token is idx:val (as LightGBM does).
func detectFormat(s []byte) Format {
	f := bytes.Fields(s)
	if len(f) > 1 && bytes.IndexByte(f[1], ':') > 0 {
		return FormatLibSVM
	}
	if len(f) == 1 && bytes.IndexByte(f[0], ':') > 0 {
		return FormatLibSVM
	}
	return FormatTSV
}

type parser struct {
	format Format
	sep    byte // TSV separator; 0 = runs of spaces
	// libsvm: sparse rows collected before densifying.
	idx      []int32
	val      []float64
	rowStart []int
	maxIdx   int
	qids     []string
}

func (p *parser) init(f Format, first []byte) {
	p.format = f
	p.maxIdx = -1
	if f == FormatTSV {
		switch {
		case bytes.IndexByte(first, '\t') >= 0:
			p.sep = '\t'
		case bytes.IndexByte(first, ',') >= 0:
			p.sep = ','
		default:
			p.sep = 0
		}
	}
}

func (p *parser) parse(d *Dataset, s []byte, line int) error {
	if p.format == FormatTSV {
		return p.parseTSV(d, s, line)
	}
	return p.parseLibSVM(d, s, line)
}

func (p *parser) parseTSV(d *Dataset, s []byte, line int) error {
	col := 0
	// Trailing whitespace (as in "1\t2\t") is not an empty last field.
	s = bytes.TrimRight(s, " \t")
	// next cuts the next field: at p.sep, or (p.sep 0) at runs of spaces.
	next := func() ([]byte, bool) {
		sep := p.sep
		if sep == 0 {
			sep = ' '
			if s = bytes.TrimLeft(s, " "); len(s) == 0 {
				return nil, false
			}
		} else if s == nil {
			return nil, false
		}
		var tok []byte
		if i := bytes.IndexByte(s, sep); i < 0 {
			tok, s = s, nil
		} else {
			tok, s = s[:i], s[i+1:]
		}
		return tok, true
	}
	for {
		tok, ok := next()
		if !ok {
			break
		}
		v, err := parseValue(tok)
		if err != nil {
			return fmt.Errorf("column %d: %w", col+1, err)
		}
		if col == 0 {
			if math.IsNaN(v) {
				return fmt.Errorf("missing label")
			}
			d.Labels = append(d.Labels, v)
		} else {
			d.X = append(d.X, v)
		}
		col++
	}
	nf := col - 1
	if nf < 1 {
		return fmt.Errorf("no features after the label")
	}
	if d.NumRows == 0 {
		d.NumFeatures = nf
	} else if nf != d.NumFeatures {
		return fmt.Errorf("%d features, the first row has %d", nf, d.NumFeatures)
	}
	d.NumRows++
	d.Lines = append(d.Lines, line)
	return nil
}

func (p *parser) parseLibSVM(d *Dataset, s []byte, line int) error {
	fields := bytes.Fields(s)
	p.rowStart = append(p.rowStart, len(p.idx))
	i := 0
	label := 0.0
	if len(fields) > 0 && bytes.IndexByte(fields[0], ':') < 0 {
		v, err := parseValue(fields[0])
		if err != nil || math.IsNaN(v) {
			return fmt.Errorf("label %q is not a number", fields[0])
		}
		label = v
		i = 1
	}
	d.Labels = append(d.Labels, label)
	var qid string
	for ; i < len(fields); i++ {
		tok := fields[i]
		c := bytes.IndexByte(tok, ':')
		if c <= 0 {
			return fmt.Errorf("token %q is not idx:value", tok)
		}
		if string(tok[:c]) == "qid" {
			qid = string(tok[c+1:])
			continue
		}
		k, err := strconv.Atoi(string(tok[:c]))
		if err != nil || k < 0 || k > math.MaxInt32 {
			return fmt.Errorf("feature index %q is not a non-negative integer", tok[:c])
		}
		v, err := parseValue(tok[c+1:])
		if err != nil {
			return fmt.Errorf("feature %d: %w", k, err)
		}
		p.idx = append(p.idx, int32(k))
		p.val = append(p.val, v)
		if k > p.maxIdx {
			p.maxIdx = k
		}
	}
	if qid != "" || p.qids != nil {
		if p.qids == nil {
			p.qids = make([]string, d.NumRows, d.NumRows+1)
		}
		p.qids = append(p.qids, qid)
	}
	d.NumRows++
	d.Lines = append(d.Lines, line)
	return nil
}

func (p *parser) finish(d *Dataset, minFeatures int) {
	if p.format == FormatTSV {
		return // dense rows are never padded: the caller reports a width mismatch
	}
	nf := p.maxIdx + 1
	if nf < minFeatures {
		nf = minFeatures
	}
	if nf < 1 {
		nf = 1
	}
	d.NumFeatures = nf
	d.X = make([]float64, d.NumRows*nf)
	p.rowStart = append(p.rowStart, len(p.idx))
	for r := 0; r < d.NumRows; r++ {
		row := d.X[r*nf : (r+1)*nf]
		for k := p.rowStart[r]; k < p.rowStart[r+1]; k++ {
			row[p.idx[k]] = p.val[k]
		}
	}
	if p.qids != nil {
		for r := 0; r < d.NumRows; r++ {
			if r == 0 || p.qids[r] != p.qids[r-1] {
				d.Groups = append(d.Groups, 0)
			}
			d.Groups[len(d.Groups)-1]++
		}
	}
}

// parseValue parses a number; empty, na, nan, null and none mean missing (NaN), as in LightGBM.
func parseValue(tok []byte) (float64, error) {
	tok = bytes.TrimSpace(tok)
	if len(tok) == 0 {
		return math.NaN(), nil
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	if err == nil {
		return v, nil
	}
	switch strings.ToLower(string(tok)) {
	case "na", "nan", "null", "none", "-nan":
		return math.NaN(), nil
	}
	var ne *strconv.NumError
	if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
		return v, nil // ±Inf or a denormal: keep the rounded value
	}
	return 0, fmt.Errorf("%q is not a number", tok)
}
