package nn

import (
	"fmt"
	"math"

	"github.com/cascade-rec/cascade/artifact"
)

// maxSavedParams bounds the tensor count read from a file before anything is allocated for it.
const maxSavedParams = 1024

// WriteParams appends ps to a model's artifact payload: their count, then each one's name, shape
// and weights. The model's loader reads them back with ReadParams and, once it has rebuilt the
// same architecture, copies them in with SavedParams.Restore.
func WriteParams(e *artifact.Encoder, ps Params) {
	e.Int(len(ps))
	for _, p := range ps {
		e.String(p.Name)
		e.Int(p.Rows)
		e.Int(p.Cols)
		e.Float32s(p.W)
	}
}

// SavedParams are weights read from a file, held until the architecture they belong to is
// rebuilt: the sizes that rebuild allocates come from the same file, so they are checked against
// what it holds first.
type SavedParams []savedParam

type savedParam struct {
	name       string
	rows, cols int
	w          []float32
}

// ReadParams reads what WriteParams wrote. A decoding failure is left in d (see Decoder.Err); a
// tensor count beyond any model's is an error.
func ReadParams(d *artifact.Decoder) (SavedParams, error) {
	k := d.Int()
	if k < 0 || k > maxSavedParams {
		return nil, fmt.Errorf("%d weight tensors", k)
	}
	s := make(SavedParams, k)
	for i := range s {
		s[i] = savedParam{d.String(), d.Int(), d.Int(), d.Float32s()}
	}
	return s, nil
}

// Restore copies the saved weights into ps, the parameters of a freshly built model of the same
// architecture: the count, every name and shape must match, and every weight must be finite.
func (s SavedParams) Restore(ps Params) error {
	if len(s) != len(ps) {
		return fmt.Errorf("%d weight tensors, the architecture has %d", len(s), len(ps))
	}
	for i, q := range ps {
		t := s[i]
		if t.name != q.Name || t.rows != q.Rows || t.cols != q.Cols || len(t.w) != len(q.W) {
			return fmt.Errorf("tensor %q %d×%d (%d values), the architecture wants %q %d×%d", t.name, t.rows, t.cols, len(t.w), q.Name, q.Rows, q.Cols)
		}
		for _, v := range t.w {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("tensor %q holds a non-finite weight", t.name)
			}
		}
		copy(q.W, t.w)
	}
	return nil
}
