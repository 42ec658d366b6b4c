package imported

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/cascade-rec/cascade/candidates"
)

// blasImpl is gonum's stateless BLAS, called directly (as candidates/als does) to skip the
// blas32 wrappers on k-sized vectors.
var blasImpl gonum.Implementation

// Model is an imported factorisation aligned to a catalog: item vectors by dense item ID, the
// imported user vectors by dense user ID, and the fold-in that makes a user vector from a
// history. It is a candidates.Source (the items with the highest inner product with the user's
// vector, by an exact scan) and a candidates.Scorer (that inner product as a ranking feature),
// and is safe for concurrent use.
type Model struct {
	p        Params
	k        int
	numItems int
	items    []float32 // numItems×k; zero rows for catalog items the files have no vector for
	hasItem  []bool    // by dense item ID
	missing  int       // catalog items without a vector
	numUsers int
	users    []float32 // numUsers×k; zero rows for users without a vector
	hasUser  []bool    // by dense user ID
	// gram is YᵀY (k×k) over every item row of the files — the catalog's and the others — as
	// Spark's implicit ALS adds it to every user equation.
	gram   []float64
	report Report
	pool   sync.Pool // *scratch
}

var (
	_ candidates.Source = (*Model)(nil)
	_ candidates.Scorer = (*Model)(nil)
)

// Report says what an import found and kept.
type Report struct {
	Format  string `json:"format"`
	Factors int    `json:"factors"`
	// FileItems rows of the item file(s); Items of them are catalog items and were kept;
	// ItemsSkipped name an item absent from the data set or first seen after the training window.
	FileItems    int `json:"file_items"`
	Items        int `json:"items"`
	ItemsSkipped int `json:"items_skipped"`
	// CatalogItemsWithout counts catalog items the files have no vector for: they are never
	// recommended and score NaN.
	CatalogItemsWithout int `json:"catalog_items_without_vector"`
	// Likewise for users (0 everywhere when no user vectors were imported).
	FileUsers    int `json:"file_users"`
	Users        int `json:"users"`
	UsersSkipped int `json:"users_skipped"`
}

func (r Report) String() string {
	return fmt.Sprintf("%s, %d factors: %d of %d item rows kept (%d not in the catalog), %d catalog items without a vector; %d of %d user rows kept (%d not in the window)",
		r.Format, r.Factors, r.Items, r.FileItems, r.ItemsSkipped, r.CatalogItemsWithout, r.Users, r.FileUsers, r.UsersSkipped)
}

// scratch is one request's buffers, pooled so that steady-state requests do not allocate.
type scratch struct {
	user   []float32 // the user's vector
	scores []float32 // one per catalog item
	a      []float64 // k×k normal-equation matrix
	b      []float64 // k: right-hand side, then solution; the mean's accumulator
	keys   []int64   // item<<32 | history position, sorted to group repeats
	skip   func(int32) bool
	// skipFn leaves out items without a vector, then those the caller's skip names.
	skipFn func(int32) bool
}

func newModel(p Params, k, numItems, numUsers int, items, users []float32, hasItem, hasUser []bool, gram []float64, rep Report) *Model {
	m := &Model{p: p, k: k, numItems: numItems, items: items, hasItem: hasItem, numUsers: numUsers, users: users, hasUser: hasUser, gram: gram, report: rep}
	for _, h := range hasItem {
		if !h {
			m.missing++
		}
	}
	m.pool.New = func() any {
		s := &scratch{user: aligned16(k), scores: make([]float32, numItems), a: make([]float64, k*k), b: make([]float64, k)}
		s.skipFn = func(it int32) bool { return !m.hasItem[it] || (s.skip != nil && s.skip(it)) }
		return s
	}
	return m
}

// aligned16 returns a k-float slice whose first element is 16-byte aligned. gonum's SSE dot
// kernel peels the unaligned head of its second operand (here the user vector) before its
// 4-wide loop, so without this the summation order — and the last bit of every score — would
// depend on where the scratch happened to be allocated, and a model would not score alike across
// requests or after Load. Go's heap objects do not move, so the alignment holds.
func aligned16(k int) []float32 {
	buf := make([]float32, k+3)
	off := int((16-reflect.ValueOf(&buf[0]).Pointer()%16)%16) / 4
	return buf[off : off+k : off+k]
}

// Params returns the model's parameters: the files it was imported from and how it serves.
func (m *Model) Params() Params { return m.p }

// Report returns what the import found and kept.
func (m *Model) Report() Report { return m.report }

// Info is the report, for the bundle's manifest.
func (m *Model) Info() any { return m.report }

// Factors returns k, the vector size.
func (m *Model) Factors() int { return m.k }

// NumItems and NumUsers are the catalog and user ranges the model was aligned to.
func (m *Model) NumItems() int { return m.numItems }
func (m *Model) NumUsers() int { return m.numUsers }

// ItemFactors returns the row-major NumItems×Factors item matrix (zero rows for items without
// a vector). It must not be modified.
func (m *Model) ItemFactors() []float32 { return m.items }

// ItemVector returns item i's vector, or nil if the model has none for it. It must not be
// modified.
func (m *Model) ItemVector(i int32) []float32 {
	if i < 0 || int(i) >= m.numItems || !m.hasItem[i] {
		return nil
	}
	return m.items[int(i)*m.k : int(i)*m.k+m.k]
}

// UserVector returns user u's imported vector, or nil if the files have none for u. It must not
// be modified.
func (m *Model) UserVector(u int32) []float32 {
	if u < 0 || int(u) >= m.numUsers || !m.hasUser[u] {
		return nil
	}
	return m.users[int(u)*m.k : int(u)*m.k+m.k]
}

// WithServing returns the model serving with p's fold_in, fold, implicit, reg, alpha and
// history_len (the other fields are ignored; an empty fold is the model's format's default); the
// factors are shared.
func (m *Model) WithServing(p Params) (*Model, error) {
	q := m.p
	q.FoldIn, q.Fold, q.Implicit, q.Reg, q.Alpha, q.HistoryLen = p.FoldIn, p.Fold, p.Implicit, p.Reg, p.Alpha, p.HistoryLen
	q.Fold = q.fold()
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("imported model: %w", err)
	}
	return newModel(q, m.k, m.numItems, m.numUsers, m.items, m.users, m.hasItem, m.hasUser, m.gram, m.report), nil
}

// userVector sets s.user to the query's user vector: the imported one for a known user (unless
// fold_in is set), else the fold-in of the history. It reports false when there is none.
func (m *Model) userVector(s *scratch, q candidates.Query) bool {
	if v := m.UserVector(q.User); v != nil && !m.p.FoldIn {
		copy(s.user, v)
		return true
	}
	return m.foldIn(s, q.History, q.HistoryValues)
}

// Recommend returns the n catalog items with the highest inner product with the user's vector,
// skipping those for which skip is true. A query without a user vector (an unknown user whose
// history holds no item with a vector) yields no candidates.
func (m *Model) Recommend(ctx context.Context, q candidates.Query, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return dst[:0], err
	}
	if n <= 0 || m.numItems == 0 {
		return dst[:0], nil
	}
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	if !m.userVector(s, q) {
		return dst[:0], nil
	}
	blasImpl.Sgemv(blas.NoTrans, m.numItems, m.k, 1, m.items, m.k, s.user, 1, 0, s.scores, 1)
	f := skip
	if m.missing > 0 {
		s.skip, f = skip, s.skipFn
		defer func() { s.skip = nil }()
	}
	return candidates.TopK(s.scores, n, f, dst), nil
}

// Score sets dst[i] to the inner product of the user's vector with items[i]'s: the value
// Recommend ranks by. Items without a vector get NaN, and so does every item when the query has
// no user vector.
func (m *Model) Score(ctx context.Context, q candidates.Query, items []int32, dst []float32) error {
	if len(dst) < len(items) {
		return fmt.Errorf("imported score: dst has %d entries for %d items", len(dst), len(items))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	ok := m.userVector(s, q)
	nan := float32(math.NaN())
	for j, it := range items {
		if !ok || it < 0 || int(it) >= m.numItems || !m.hasItem[it] {
			dst[j] = nan
			continue
		}
		// Same operand order as Sgemv's row dot, so Score and Recommend agree bit for bit.
		dst[j] = blasImpl.Sdot(m.k, m.items[int(it)*m.k:], 1, s.user, 1)
	}
	return nil
}

// FoldIn computes the vector of a user with the given history (dense item IDs, oldest first;
// values are the ratings an explicit fold-in reads, NaN or nil for none) with the model's fold-in
// method, appended to dst[:0]. ok is false when no history item has a vector.
func (m *Model) FoldIn(history []int32, values []float32, dst []float32) (vec []float32, ok bool) {
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	if !m.foldIn(s, history, values) {
		return dst[:0], false
	}
	return append(dst[:0], s.user...), true
}
