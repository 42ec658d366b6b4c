package als

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
)

// factorModel is what ALSModel and IALSModel share: the trained factors, the shape of the
// training matrix, the serving path (fold the history in, score every item, keep the best) and
// the file layout. The models embed it and differ only in how a history is folded in (fold),
// their parameters and their training.
type factorModel struct {
	format   artifact.Format // alsFormat or ialsFormat; its kind also names the model in errors
	params   []any           // the model's parameters as stored, in file order (see fields)
	numUsers int
	numItems int
	k        int
	users    []float32 // numUsers×k; the row solves against the final item factors
	items    []float32 // numItems×k
	pool     sync.Pool // *foldScratch
	// fold solves the user vector of q's history into s.user; false when the history has
	// nothing to fold in.
	fold func(s *foldScratch, q candidates.Query) bool
}

// init sets up m in place (the pool must not be copied); the artifact is of format f, and stores
// the parameters params points to.
func (m *factorModel) init(f artifact.Format, params []any, k, numUsers, numItems int, users, items []float32, fold func(*foldScratch, candidates.Query) bool) {
	m.format, m.params = f, params
	m.k, m.numUsers, m.numItems, m.users, m.items, m.fold = k, numUsers, numItems, users, items, fold
	m.pool.New = func() any { return newFoldScratch(k, numItems) }
}

// foldScratch is one request's scratch, pooled so that steady-state requests do not allocate.
type foldScratch struct {
	solver *rowSolver
	known  []int32   // the history's catalog items, then sorted
	idx    []int32   // distinct items
	cnt    []float32 // their counts (or ratings, for ALSModel)
	keys   []int64   // item<<32 | history position (ALSModel: the last rating wins)
	user   []float32 // the folded-in vector
	scores []float32 // one per catalog item
}

func newFoldScratch(k, numItems int) *foldScratch {
	return &foldScratch{solver: newRowSolver(k), user: make([]float32, k), scores: make([]float32, numItems)}
}

// Factors returns k, the embedding dimension.
func (m *factorModel) Factors() int { return m.k }

// NumUsers and NumItems return the training matrix's dimensions; the catalog is [0, NumItems).
func (m *factorModel) NumUsers() int { return m.numUsers }
func (m *factorModel) NumItems() int { return m.numItems }

// ItemFactors returns the row-major NumItems×Factors item matrix. It must not be modified.
func (m *factorModel) ItemFactors() []float32 { return m.items }

// UserFactors returns the row-major NumUsers×Factors user matrix from training. It must not be
// modified. Serving does not use it: Recommend and Score fold in from the live history.
func (m *factorModel) UserFactors() []float32 { return m.users }

// ItemVector returns item i's factors, or nil if i is outside the catalog. It must not be modified.
func (m *factorModel) ItemVector(i int32) []float32 {
	if i < 0 || int(i) >= m.numItems {
		return nil
	}
	return m.items[int(i)*m.k : int(i)*m.k+m.k]
}

// foldInto folds q's history in and appends the user vector to dst[:0].
func (m *factorModel) foldInto(q candidates.Query, dst []float32) (vec []float32, ok bool) {
	s := m.pool.Get().(*foldScratch)
	defer m.pool.Put(s)
	if !m.fold(s, q) {
		return dst[:0], false
	}
	return append(dst[:0], s.user...), true
}

// score is x_uᵀy_i for a catalog item i, summed as Recommend's kernel.MatVec32 sums each row, so
// that Score and Recommend agree bit for bit. (gonum's Sdot and Sgemv sum in an order that depends
// on the slices' 16-byte alignment, so a loaded model could score differently from the trained one.)
func (m *factorModel) score(user []float32, i int32) float32 {
	var s [1]float32
	kernel.MatVec32(m.items[int(i)*m.k:int(i)*m.k+m.k], 1, m.k, user, s[:])
	return s[0]
}

// Recommend folds in q's history (see the model's FoldIn) and returns the n items with the
// highest scores x_uᵀy_i, skipping those for which skip is true. A history with nothing to fold
// in yields no candidates (the caller falls back to popularity).
func (m *factorModel) Recommend(ctx context.Context, q candidates.Query, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return dst[:0], err
	}
	if n <= 0 || m.numItems == 0 {
		return dst[:0], nil
	}
	s := m.pool.Get().(*foldScratch)
	defer m.pool.Put(s)
	if !m.fold(s, q) {
		return dst[:0], nil
	}
	kernel.MatVec32(m.items, m.numItems, m.k, s.user, s.scores)
	return candidates.TopK(s.scores, n, skip, dst), nil
}

// Score folds in q's history and sets dst[i] to x_uᵀy of items[i]: the value Recommend ranks by.
// Items outside the catalog get NaN, and so does every item when the history has nothing to fold
// in.
func (m *factorModel) Score(ctx context.Context, q candidates.Query, items []int32, dst []float32) error {
	if len(dst) < len(items) {
		return fmt.Errorf("%s score: dst has %d entries for %d items", m.format.Kind, len(dst), len(items))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s := m.pool.Get().(*foldScratch)
	defer m.pool.Put(s)
	ok := m.fold(s, q)
	nan := float32(math.NaN())
	for j, it := range items {
		if !ok || it < 0 || int(it) >= m.numItems {
			dst[j] = nan
			continue
		}
		dst[j] = m.score(s.user, it)
	}
	return nil
}

// checkLossMatrix checks the matrix a Loss call evaluates on: well formed (counts or ratings
// ≥ 0 with nonNeg) and of the model's training shape.
func (m *factorModel) checkLossMatrix(r *dataset.Matrix, nonNeg bool) error {
	if err := checkMatrix(r, nonNeg); err != nil {
		return fmt.Errorf("%s loss: %w", m.format.Kind, err)
	}
	if r.Rows != m.numUsers || r.Cols != m.numItems {
		return fmt.Errorf("%s loss: matrix is %d×%d, model is %d×%d", m.format.Kind, r.Rows, r.Cols, m.numUsers, m.numItems)
	}
	return nil
}

// Save writes the model to path as an artifact of its kind ("ials" or "als") and returns the
// file's hex SHA-256. Both models store the same layout: their parameters (see fields), then the
// training matrix's shape and the two factor matrices.
func (m *factorModel) Save(path string) (string, error) {
	return m.format.Save(path, func(e *artifact.Encoder) {
		putFields(e, m.params)
		e.Int(m.numUsers)
		e.Int(m.numItems)
		e.Float32s(m.users)
		e.Float32s(m.items)
	})
}

// savedFactors is what readModel reads back besides the parameters.
type savedFactors struct {
	numUsers, numItems int
	users, items       []float32
}

// readModel reads what save wrote: the parameters into params, then the factors. It checks, in
// order, that the payload decoded, that the parameters are valid (validate, called after
// decoding), and that the matrices have the stated shape for *k factors and are finite.
func readModel(payload []byte, params []any, k *int, validate func() error) (savedFactors, error) {
	d := artifact.NewDecoder(payload)
	getFields(d, params)
	f := savedFactors{numUsers: d.Int(), numItems: d.Int()}
	f.users, f.items = d.Float32s(), d.Float32s()
	if err := d.Err(); err != nil {
		return f, err
	}
	if err := validate(); err != nil {
		return f, err
	}
	if f.numUsers < 0 || f.numItems < 0 || f.numUsers > math.MaxInt32 || f.numItems > math.MaxInt32 ||
		len(f.users) != f.numUsers**k || len(f.items) != f.numItems**k {
		return f, fmt.Errorf("factor shapes %d and %d do not match %d users, %d items, %d factors",
			len(f.users), len(f.items), f.numUsers, f.numItems, *k)
	}
	for _, x := range [][]float32{f.users, f.items} {
		for _, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return f, fmt.Errorf("non-finite factor %v", v)
			}
		}
	}
	return f, nil
}
