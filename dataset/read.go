package dataset

// The reading helpers the format loaders share: lines and Latin-1 text, CSV files with a header,
// time fields, the MovieLens rows two formats have in common, and the attribute columns every
// loader fills.

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/charmap"
)

func unixSeconds(s string) (int64, error) {
	t, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer Unix time", s)
	}
	return t, nil
}

// flexibleTime accepts integer Unix seconds, fractional seconds, or RFC 3339.
func flexibleTime(s string) (int64, error) {
	if t, err := strconv.ParseInt(s, 10, 64); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return int64(math.Floor(f)), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Unix(), nil
	}
	return 0, fmt.Errorf("%q is neither Unix seconds nor RFC 3339", s)
}

func (b *builder) path(name string) string { return filepath.Join(b.dir, name) }

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readLatin1 reads a file and converts it from ISO-8859-1 (the MovieLens 100K/1M encoding).
func readLatin1(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return charmap.ISO8859_1.NewDecoder().Bytes(raw)
}

// lines calls fn for each non-empty line (1-based numbers), without the line terminator.
func lines(data []byte, fn func(n int, line string) error) error {
	n := 0
	for len(data) > 0 {
		n++
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(l) == 0 {
			continue
		}
		if err := fn(n, string(l)); err != nil {
			return err
		}
	}
	return nil
}

// ratingLines reads MovieLens rating lines, "user item rating timestamp" separated by sep (the
// 100K and 1M ratings files); layout describes the fields in the error for a short line.
func (b *builder) ratingLines(file string, data []byte, sep, layout string) error {
	return lines(data, func(n int, l string) error {
		f := strings.Split(l, sep)
		if len(f) != 4 {
			return b.bad(file, n, "", fmt.Errorf("want 4 %s, got %d", layout, len(f)))
		}
		return b.addEvent(file, n, f[0], f[1], f[3], f[2], 0, unixSeconds)
	})
}

// latin1Lines reads the Latin-1 file at path and calls fn for each non-empty line (lines); a
// read error is prefixed with what.
func (b *builder) latin1Lines(path, what string, fn func(n int, line string) error) error {
	data, err := readLatin1(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return lines(data, fn)
}

// loadSepUsers reads a separator-delimited user file whose first column is the user ID.
func (b *builder) loadSepUsers(file, sep string, cols []string, numeric map[string]bool) error {
	a := b.userAttrs()
	idx := make([]int, len(cols))
	for i, c := range cols {
		if numeric[c] {
			idx[i] = a.numeric(c)
		} else {
			idx[i] = a.categorical(c)
		}
	}
	return b.latin1Lines(file, "load users", func(n int, l string) error {
		f := strings.Split(l, sep)
		if len(f) != len(cols)+1 {
			return b.bad(file, n, "", fmt.Errorf("want %d %q-separated fields, got %d", len(cols)+1, sep, len(f)))
		}
		id := b.users.Add(f[0])
		for i, c := range cols {
			v := f[i+1]
			if numeric[c] {
				x, err := strconv.ParseFloat(v, 32)
				if err != nil {
					return b.bad(file, n, c, fmt.Errorf("%q is not a number", v))
				}
				a.set(idx[i], id, float32(x))
			} else if v != "" {
				a.add(idx[i], id, v)
			}
		}
		return nil
	})
}

// movieAttrs returns the item attributes with the MovieLens movie columns, genres and year.
func (b *builder) movieAttrs() (a *attrBuilder, genres, year int) {
	a = b.itemAttrs()
	return a, a.categorical("genres"), a.numeric("year")
}

// addMovie records a MovieLens movie: title, "|"-separated genres, and the year in the title.
func (b *builder) addMovie(a *attrBuilder, genres, year int, id, title, gs string) {
	item := b.items.Add(id)
	b.titles[item] = title
	if gs != "" && gs != "(no genres listed)" {
		for _, g := range strings.Split(gs, "|") {
			a.add(genres, item, g)
		}
	}
	// Titles end with "(YYYY)"; a missing year stays NaN.
	t := strings.TrimSpace(title)
	if len(t) >= 6 && t[len(t)-1] == ')' && t[len(t)-6] == '(' {
		if y, err := strconv.Atoi(t[len(t)-5 : len(t)-1]); err == nil {
			a.set(year, item, float32(y))
		}
	}
}

// csvFile opens a CSV file and checks its header against the required columns; it returns the
// reader, the column index by name, and a function giving the current record's line.
func csvFile(path string, required ...string) (*csv.Reader, map[string]int, func() int, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		f.Close()
		if errors.Is(err, io.EOF) {
			return nil, nil, nil, nil, &ParseError{File: path, Line: 1, Err: errors.New("empty file, want a header line")}
		}
		return nil, nil, nil, nil, &ParseError{File: path, Line: 1, Err: err}
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := col[h]; dup {
			f.Close()
			return nil, nil, nil, nil, &ParseError{File: path, Line: 1, Field: h, Err: errors.New("duplicate column")}
		}
		col[h] = i
	}
	for _, req := range required {
		if _, ok := col[req]; !ok {
			f.Close()
			return nil, nil, nil, nil, &ParseError{File: path, Line: 1, Field: req, Err: fmt.Errorf("missing column (header is %q)", strings.Join(head, ","))}
		}
	}
	line := func() int { l, _ := r.FieldPos(0); return l }
	return r, col, line, f, nil
}

// eachCSV calls fn for every record after the header. A record with a wrong field count or a
// CSV syntax error is a ParseError (or skipped).
func (b *builder) eachCSV(path string, r *csv.Reader, ncol int, line func() int, fn func(n int, rec []string) error) error {
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if e := b.bad(path, pe.Line, "", pe.Err); e != nil {
					return e
				}
				continue
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) != ncol {
			if e := b.bad(path, line(), "", fmt.Errorf("want %d fields like the header, got %d", ncol, len(rec))); e != nil {
				return e
			}
			continue
		}
		if err := fn(line(), rec); err != nil {
			return err
		}
	}
}

// eachCSVFile reads the CSV file at path whose header must hold the required columns, calling
// fn with each record's values of those columns, in that order. Errors opening the file or in its
// header are prefixed with what.
func (b *builder) eachCSVFile(path, what string, required []string, fn func(n int, f []string) error) error {
	r, col, line, c, err := csvFile(path, required...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer c.Close()
	idx, f := make([]int, len(required)), make([]string, len(required))
	for k, name := range required {
		idx[k] = col[name]
	}
	return b.eachCSV(path, r, len(col), line, func(n int, rec []string) error {
		for k, c := range idx {
			f[k] = rec[c]
		}
		return fn(n, f)
	})
}

func (b *builder) itemAttrs() *attrBuilder {
	if b.iattrs == nil {
		b.iattrs = &attrBuilder{}
	}
	return b.iattrs
}

func (b *builder) userAttrs() *attrBuilder {
	if b.uattrs == nil {
		b.uattrs = &attrBuilder{}
	}
	return b.uattrs
}

// attrBuilder collects attributes keyed by file-order IDs; finish permutes them to dense IDs.
type attrBuilder struct {
	cats []CategoricalColumn
	nums []NumericColumn
	// numeric columns are kept sparse until the ID count is known
	numVals []map[int32]float32
}

// categorical returns the index of the categorical column name, creating it.
func (a *attrBuilder) categorical(name string) int {
	for i, c := range a.cats {
		if c.Name == name {
			return i
		}
	}
	a.cats = append(a.cats, CategoricalColumn{Name: name, Dict: NewDict()})
	return len(a.cats) - 1
}

func (a *attrBuilder) numeric(name string) int {
	for i, c := range a.nums {
		if c.Name == name {
			return i
		}
	}
	a.nums = append(a.nums, NumericColumn{Name: name})
	a.numVals = append(a.numVals, map[int32]float32{})
	return len(a.nums) - 1
}

func (a *attrBuilder) add(col int, id int32, value string) {
	c := &a.cats[col]
	for int(id) >= len(c.Values) {
		c.Values = append(c.Values, nil)
	}
	c.Values[id] = append(c.Values[id], c.Dict.Add(value))
}

func (a *attrBuilder) addUnique(col int, id int32, value string) {
	c := &a.cats[col]
	v := c.Dict.Add(value)
	if int(id) < len(c.Values) && slices.Contains(c.Values[id], v) {
		return
	}
	a.add(col, id, value)
}

func (a *attrBuilder) set(col int, id int32, v float32) { a.numVals[col][id] = v }

// build returns the attributes re-indexed by perm (file-order ID → dense ID) over n entities.
func (a *attrBuilder) build(perm []int32, n int) *Attributes {
	if a == nil {
		return nil
	}
	out := &Attributes{}
	for _, c := range a.cats {
		vals := make([][]int32, n)
		for old, v := range c.Values {
			vals[perm[old]] = v
		}
		out.Categorical = append(out.Categorical, CategoricalColumn{Name: c.Name, Dict: c.Dict, Values: vals})
	}
	for i, c := range a.nums {
		vals := make([]float32, n)
		for j := range vals {
			vals[j] = float32(math.NaN())
		}
		for old, v := range a.numVals[i] {
			vals[perm[old]] = v
		}
		out.Numeric = append(out.Numeric, NumericColumn{Name: c.Name, Values: vals})
	}
	return out
}
