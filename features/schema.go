package features

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// SchemaVersion versions the feature definitions: it changes whenever a feature of the same
// name would be computed differently, so that a ranker trained on old definitions is refused.
const SchemaVersion = 1

// Schema names the columns of the feature rows, in order. It is saved next to the rankers
// trained on the rows (as JSON) and checked against them when they are loaded.
type Schema struct {
	Version int      `json:"version"`
	Names   []string `json:"names"`
}

// Index returns the column of name, or -1.
func (s Schema) Index(name string) int { return slices.Index(s.Names, name) }

// Validate checks that the version is one this build computes and that the names are
// non-empty and distinct.
func (s Schema) Validate() error {
	if s.Version != SchemaVersion {
		return fmt.Errorf("features: schema version %d, this build computes version %d", s.Version, SchemaVersion)
	}
	seen := make(map[string]bool, len(s.Names))
	for k, n := range s.Names {
		if n == "" || seen[n] {
			return fmt.Errorf("features: schema column %d: name %q is empty or repeated", k, n)
		}
		seen[n] = true
	}
	return nil
}

// MismatchError lists how a schema differs from the feature names a ranker expects.
type MismatchError struct {
	Missing []string // expected by the ranker, absent from the schema
	Extra   []string // in the schema, unknown to the ranker
	Moved   []string // in both, at different columns ("name (ranker column i, schema column j)")
}

func (e *MismatchError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing "+strings.Join(e.Missing, ", "))
	}
	if len(e.Extra) > 0 {
		parts = append(parts, "extra "+strings.Join(e.Extra, ", "))
	}
	if len(e.Moved) > 0 {
		parts = append(parts, "moved "+strings.Join(e.Moved, ", "))
	}
	if len(parts) == 0 {
		parts = append(parts, "repeated names")
	}
	return "features: schema mismatch: " + strings.Join(parts, "; ")
}

// Check compares the schema with the feature names a ranker expects, in its column order. It
// returns nil when they are equal, else a *MismatchError naming the missing, extra and moved
// features. A ranker that reads a subset of the columns should use Columns instead.
func (s Schema) Check(expected []string) error {
	if slices.Equal(s.Names, expected) {
		return nil
	}
	in := make(map[string]int, len(s.Names))
	for j, n := range s.Names {
		in[n] = j
	}
	want := make(map[string]bool, len(expected))
	e := &MismatchError{}
	for i, n := range expected {
		want[n] = true
		j, ok := in[n]
		switch {
		case !ok:
			e.Missing = append(e.Missing, n)
		case j != i:
			e.Moved = append(e.Moved, fmt.Sprintf("%s (ranker column %d, schema column %d)", n, i, j))
		}
	}
	for _, n := range s.Names {
		if !want[n] {
			e.Extra = append(e.Extra, n)
		}
	}
	return e
}

// Columns returns the schema column of each of names (a ranker's features, in its order), for
// Project. It fails with a *MismatchError listing the names the schema lacks.
func (s Schema) Columns(names []string) ([]int, error) {
	cols := make([]int, len(names))
	var missing []string
	for i, n := range names {
		cols[i] = s.Index(n)
		if cols[i] < 0 {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, &MismatchError{Missing: missing}
	}
	return cols, nil
}

// SaveSchema writes s as JSON to path (atomically).
func SaveSchema(path string, s Schema) error {
	if err := s.Validate(); err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("features: save schema: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("features: save schema: %w", err)
	}
	_, err = tmp.Write(append(data, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("features: save schema %s: %w", path, err)
	}
	return nil
}

// LoadSchema reads a schema written by SaveSchema and validates it.
func LoadSchema(path string) (Schema, error) {
	var s Schema
	data, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("features: load schema: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Schema{}, fmt.Errorf("features: load schema %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return Schema{}, fmt.Errorf("features: load schema %s: %w", path, err)
	}
	return s, nil
}

// Project copies columns cols (from Schema.Columns) of the rows of src, stride values per row,
// into dst as rows of len(cols) values, growing dst if needed. It allocates nothing when dst is
// large enough.
func Project(dst, src []float32, stride int, cols []int) []float32 {
	rows := rowsOf(src, stride)
	dst = kernel.Grow(dst, rows*len(cols))
	for r := range rows {
		in, out := src[r*stride:], dst[r*len(cols):]
		for k, c := range cols {
			out[k] = in[c]
		}
	}
	return dst
}

// ProjectFloat64 is Project into float64 rows, the input of the gbdt scorer (gbdt.Model.Score);
// NaN stays NaN, which LightGBM reads as missing. cols nil takes every column.
func ProjectFloat64(dst []float64, src []float32, stride int, cols []int) []float64 {
	rows := rowsOf(src, stride)
	w := stride
	if cols != nil {
		w = len(cols)
	}
	if cap(dst) < rows*w {
		dst = make([]float64, rows*w)
	}
	dst = dst[:rows*w]
	if cols == nil {
		for i, v := range src[:rows*stride] {
			dst[i] = float64(v)
		}
		return dst
	}
	for r := range rows {
		in, out := src[r*stride:], dst[r*w:]
		for k, c := range cols {
			out[k] = float64(in[c])
		}
	}
	return dst
}

func rowsOf(src []float32, stride int) int {
	if stride <= 0 {
		return 0
	}
	return len(src) / stride
}
