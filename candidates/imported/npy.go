package imported

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// The .npy reader is written by hand rather than with codeberg.org/sbinet/npyio (v0.14.0, which
// the tests still use to write fixtures): npyio panics on a header without its final newline or
// with its keys in another order (slice bounds out of range), and allocates the array its header
// declares before reading any data, so a corrupt shape kills the process with a fatal
// out-of-memory error that no recover catches. Here the header is parsed defensively, and the
// declared shape must match the file's size before anything is allocated. Reading in blocks is
// also far faster than npyio's one read call per element.

const (
	npyMagic = "\x93NUMPY"
	// maxNPYHeader bounds the header dictionary (numpy writes under 200 bytes).
	maxNPYHeader = 1 << 20
	// maxFactors bounds the vector width.
	maxFactors = 4096
)

// npyMatrix is a 2-D float matrix read from a .npy file, as float32, row-major.
type npyMatrix struct {
	rows, cols int
	data       []float32
}

// readNPY reads a 2-D float32 or float64 array (C or Fortran order, either byte order) from
// path. param names the file's parameter in errors.
func readNPY(param, path string) (*npyMatrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileErr(param, path, err, "cannot open the .npy file")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fileErr(param, path, err, "stat")
	}
	r := bufio.NewReaderSize(f, 1<<20)
	h, offset, err := readNPYHeader(r)
	if err != nil {
		return nil, fileErr(param, path, nil, "not a .npy matrix: %v", err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	size := 4
	switch h.descr {
	case "<f4":
	case "<f8":
		size = 8
	case ">f4":
		order = binary.BigEndian
	case ">f8":
		order, size = binary.BigEndian, 8
	default:
		return nil, fileErr(param, path, nil, "header field descr: dtype %s is not float32 or float64 (save with .astype(np.float32))", h.descr)
	}
	if len(h.shape) != 2 {
		return nil, fileErr(param, path, nil, "header field shape: %s is not a 2-D matrix (rows = entities, columns = factors)", shapeString(h.shape))
	}
	rows, cols := h.shape[0], h.shape[1]
	if rows < 1 || cols < 1 || cols > maxFactors {
		return nil, fileErr(param, path, nil, "header field shape: %s needs at least one row and 1 to %d columns", shapeString(h.shape), maxFactors)
	}
	data := st.Size() - offset
	if int64(rows) > data/int64(cols*size) || int64(rows)*int64(cols*size) != data {
		return nil, fileErr(param, path, nil, "header field shape: %s of %d-byte values needs %s bytes of data, the file holds %d (truncated or not this array)",
			shapeString(h.shape), size, mulString(rows, cols*size), data)
	}
	m := &npyMatrix{rows: rows, cols: cols, data: make([]float32, rows*cols)}
	buf := make([]byte, 1<<16)
	for i := 0; i < len(m.data); {
		n := min(len(buf)/size, len(m.data)-i)
		if _, err := io.ReadFull(r, buf[:n*size]); err != nil {
			return nil, fileErr(param, path, err, "reading the data")
		}
		for j := range n {
			if size == 4 {
				m.data[i+j] = math.Float32frombits(order.Uint32(buf[4*j:]))
			} else {
				m.data[i+j] = float32(math.Float64frombits(order.Uint64(buf[8*j:])))
			}
		}
		i += n
	}
	if h.fortran {
		m.data = transpose(m.data, rows, cols)
	}
	for i, v := range m.data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fileErr(param, path, nil, "row %d, column %d: %v is not a finite float32", i/cols, i%cols, v)
		}
	}
	return m, nil
}

// transpose turns a column-major rows×cols matrix into a row-major one.
func transpose(colMajor []float32, rows, cols int) []float32 {
	out := make([]float32, len(colMajor))
	for c := range cols {
		for r := range rows {
			out[r*cols+c] = colMajor[c*rows+r]
		}
	}
	return out
}

func mulString(a, b int) string {
	return strconv.FormatUint(uint64(a)*uint64(b), 10)
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, s := range shape {
		parts[i] = strconv.Itoa(s)
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// npyHeader is the header dictionary of a .npy file.
type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// readNPYHeader reads the magic, version, header length and header dictionary, and returns the
// header and the offset of the data.
func readNPYHeader(r io.Reader) (npyHeader, int64, error) {
	var h npyHeader
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return h, 0, fmt.Errorf("magic: %w", err)
	}
	if string(pre[:6]) != npyMagic {
		return h, 0, fmt.Errorf("magic: the file does not start with \\x93NUMPY")
	}
	var n int64
	offset := int64(8)
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, 0, fmt.Errorf("header length: %w", err)
		}
		n, offset = int64(binary.LittleEndian.Uint16(b[:])), offset+2
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, 0, fmt.Errorf("header length: %w", err)
		}
		n, offset = int64(binary.LittleEndian.Uint32(b[:])), offset+4
	default:
		return h, 0, fmt.Errorf("format version %d.%d is not 1.0, 2.0 or 3.0", pre[6], pre[7])
	}
	if n > maxNPYHeader {
		return h, 0, fmt.Errorf("header length %d exceeds %d bytes", n, maxNPYHeader)
	}
	text := make([]byte, n)
	if _, err := io.ReadFull(r, text); err != nil {
		return h, 0, fmt.Errorf("header: %w", err)
	}
	h, err := parseNPYHeader(string(text))
	return h, offset + n, err
}

// parseNPYHeader parses the Python dict literal of a .npy header, e.g.
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }
//
// in any key order, refusing anything else.
func parseNPYHeader(s string) (npyHeader, error) {
	var h npyHeader
	p := &dictParser{s: strings.TrimRight(s, " \n\x00")}
	if !p.eat('{') {
		return h, fmt.Errorf("header: want a dictionary, got %.40q", strings.TrimSpace(s))
	}
	seen := map[string]bool{}
	for {
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok || !p.eat(':') {
			return h, fmt.Errorf("header: malformed dictionary near byte %d of %.80q", p.i, s)
		}
		if seen[key] {
			return h, fmt.Errorf("header field %s is given twice", key)
		}
		seen[key] = true
		switch key {
		case "descr":
			if h.descr, ok = p.str(); !ok {
				return h, fmt.Errorf("header field descr: a plain dtype string is expected (structured arrays are not embeddings)")
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return h, fmt.Errorf("header field fortran_order: want True or False")
			}
		case "shape":
			if h.shape, ok = p.tuple(); !ok {
				return h, fmt.Errorf("header field shape: want a tuple of non-negative integers")
			}
		default:
			return h, fmt.Errorf("header field %q is unknown", key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return h, fmt.Errorf("header: malformed dictionary near byte %d of %.80q", p.i, s)
			}
			break
		}
	}
	if p.skip(); p.i != len(p.s) {
		return h, fmt.Errorf("header: trailing text after the dictionary")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("header field %s is missing", k)
		}
	}
	return h, nil
}

// dictParser reads the few Python literals a .npy header holds.
type dictParser struct {
	s string
	i int
}

func (p *dictParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *dictParser) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dictParser) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a quoted string without escapes.
func (p *dictParser) str() (string, bool) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, !strings.ContainsRune(v, '\\')
}

// tuple reads (a, b, ...) of non-negative integers (a trailing comma and Python 2's L suffix
// allowed).
func (p *dictParser) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	var out []int
	for {
		if p.eat(')') {
			return out, true
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		v, err := strconv.Atoi(p.s[p.i:j])
		if err != nil || len(out) >= 32 {
			return nil, false
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		out = append(out, v)
		if !p.eat(',') {
			return out, p.eat(')')
		}
	}
}
