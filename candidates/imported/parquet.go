package imported

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// factorTable is one side of a factorisation as a file holds it: an external key per row and a
// row-major matrix of float32 vectors, k wide.
type factorTable struct {
	param string // the parameter naming the file(s), for errors
	file  string // the file (or directory) it was read from, for errors
	ids   []int64
	keys  []string // external IDs (filled from ids by the format's mapping)
	vecs  []float32
	k     int
}

// Spark writes a factor table as Parquet with the columns
//
//	id: int (int32; long is accepted too)
//	features: array<float> (a 3-level LIST of float; double and the legacy 2-level list
//	          are accepted, nullable or not)
//
// readFactorPart appends the rows of one such part file to t, checking that every row has
// exactly t.k finite features.
func readFactorPart(t *factorTable, path string) (err error) {
	f, err := os.Open(path)
	if err != nil {
		return fileErr(t.param, path, err, "cannot open the Parquet part file")
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fileErr(t.param, path, err, "stat")
	}
	// A damaged file must be an error, never a crash: parquet-go decodes untrusted bytes, and a
	// decoder bug on a corrupt page would otherwise take the trainer down.
	defer func() {
		if r := recover(); r != nil {
			err = fileErr(t.param, path, nil, "the Parquet reader failed on this file (damaged?): %v", r)
		}
	}()
	if err := checkFooter(f, st.Size()); err != nil {
		return fileErr(t.param, path, err, "not a readable Parquet file")
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fileErr(t.param, path, err, "not a readable Parquet file")
	}
	idCol, featCol, err := factorColumns(pf.Schema())
	if err != nil {
		return fileErr(t.param, path, nil, "%s (schema: %s)", err, oneLineSchema(pf.Schema()))
	}
	buf := make([]parquet.Value, 1024)
	base := len(t.ids) // the file's first row in t
	for g, rg := range pf.RowGroups() {
		chunks := rg.ColumnChunks()
		groupStart := len(t.ids)
		id32 := idCol.Node.Type().Kind() == parquet.Int32
		err := eachValue(chunks[idCol.ColumnIndex], buf, func(v parquet.Value) error {
			switch {
			case v.IsNull():
				return fmt.Errorf("row %d: column id is null", len(t.ids)-base)
			case id32:
				t.ids = append(t.ids, int64(v.Int32()))
			default:
				t.ids = append(t.ids, v.Int64())
			}
			return nil
		})
		if err != nil {
			return fileErr(t.param, path, nil, "row group %d: %v", g, err)
		}
		if n := len(t.ids) - groupStart; int64(n) != rg.NumRows() {
			return fileErr(t.param, path, nil, "row group %d: column id has %d values for %d rows", g, n, rg.NumRows())
		}
		// Feature values: repetition level 0 starts the next row.
		row, count := groupStart-1, 0
		elemNull := -1 // the definition level of a null element, when elements are nullable
		if featCol.Node.Optional() {
			elemNull = featCol.MaxDefinitionLevel - 1
		}
		end := func() error {
			if row >= groupStart && count != t.k {
				return fmt.Errorf("row %d (id %d): column features has %d values, the model's rank is %d", row-base, t.ids[row], count, t.k)
			}
			return nil
		}
		err = eachValue(chunks[featCol.ColumnIndex], buf, func(v parquet.Value) error {
			if v.RepetitionLevel() == 0 {
				if err := end(); err != nil {
					return err
				}
				row, count = row+1, 0
				if row >= len(t.ids) {
					return fmt.Errorf("column features has more rows than column id (%d)", len(t.ids)-groupStart)
				}
			}
			if v.IsNull() {
				if v.DefinitionLevel() == elemNull {
					return fmt.Errorf("row %d (id %d): column features has a null element", row-base, t.ids[row])
				}
				return nil // a null or empty list: end() reports the count
			}
			var x float32
			if featCol.Node.Type().Kind() == parquet.Double {
				x = float32(v.Double())
			} else {
				x = v.Float()
			}
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("row %d (id %d): column features, element %d is %v (not a finite float32)", row-base, t.ids[row], count, x)
			}
			if count < t.k {
				t.vecs = append(t.vecs, x)
			}
			count++
			return nil
		})
		if err == nil {
			err = end()
		}
		if err == nil && row+1 != len(t.ids) {
			err = fmt.Errorf("column features has %d rows, column id %d", row+1-groupStart, len(t.ids)-groupStart)
		}
		if err != nil {
			return fileErr(t.param, path, nil, "row group %d: %v", g, err)
		}
	}
	return nil
}

// checkFooter checks a Parquet file's trailer (footer length, "PAR1") before parquet-go reads
// it: parquet-go allocates the footer length the file states before comparing it with the
// file's size, so a damaged trailer could ask for 4 GB.
func checkFooter(r io.ReaderAt, size int64) error {
	var tail [8]byte
	if size < 12 {
		return fmt.Errorf("%d bytes is too short for Parquet", size)
	}
	if _, err := r.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if string(tail[4:]) != "PAR1" {
		return fmt.Errorf("the file does not end with PAR1 (encrypted or not Parquet)")
	}
	if n := int64(binary.LittleEndian.Uint32(tail[:4])); n > size-12 {
		return fmt.Errorf("the footer length %d exceeds the file's %d bytes (truncated?)", n, size)
	}
	return nil
}

// factorColumns finds the id and features leaf columns of a Spark factor table.
func factorColumns(s *parquet.Schema) (id, features parquet.LeafColumn, err error) {
	id, ok := s.Lookup("id")
	if !ok {
		return id, features, errors.New("column id is missing")
	}
	if k := id.Node.Type().Kind(); id.MaxRepetitionLevel != 0 || (k != parquet.Int32 && k != parquet.Int64) {
		return id, features, fmt.Errorf("column id is %s, want int (Spark's integer IDs)", id.Node)
	}
	var found []string
	for _, c := range s.Columns() {
		if len(c) > 0 && c[0] == "features" {
			found = append(found, strings.Join(c, "."))
			features, _ = s.Lookup(c...)
		}
	}
	switch {
	case len(found) == 0:
		return id, features, errors.New("column features is missing")
	case len(found) > 1:
		return id, features, fmt.Errorf("column features has the leaves %s, want array<float>", strings.Join(found, ", "))
	}
	if k := features.Node.Type().Kind(); features.MaxRepetitionLevel != 1 || (k != parquet.Float && k != parquet.Double) {
		return id, features, fmt.Errorf("column features is not array<float> (leaf %s: %s, repetition depth %d)", found[0], features.Node, features.MaxRepetitionLevel)
	}
	return id, features, nil
}

// eachValue calls fn with every value of a column chunk, in order, reusing buf.
func eachValue(cc parquet.ColumnChunk, buf []parquet.Value, fn func(parquet.Value) error) error {
	pages := cc.Pages()
	defer pages.Close()
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = eachPageValue(p, buf, fn)
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
}

func eachPageValue(p parquet.Page, buf []parquet.Value, fn func(parquet.Value) error) error {
	r := p.Values()
	for {
		n, err := r.ReadValues(buf)
		for _, v := range buf[:n] {
			if err := fn(v); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("a page returned no values")
		}
	}
}

func oneLineSchema(s *parquet.Schema) string {
	return strings.Join(strings.Fields(s.String()), " ")
}
