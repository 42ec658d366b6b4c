package ann

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// Growable is an Index that takes vectors after it is built: a catalog that changes between
// retrains. Add and Delete hold the index's write lock for one insertion, so searches running
// concurrently wait at most that long (an HNSW insertion is one efConstruction search and a few
// list updates: 0.49 ms into 20,000 × 64 vectors, BenchmarkHNSWAdd), and never see a
// half-linked node.
type Growable interface {
	Index
	// Add stores vec under the next ID (Len() before the call) and returns it. The vector is
	// copied; it must have Dim finite values.
	Add(vec []float32) (int32, error)
	// Delete marks id deleted (a tombstone): searches no longer return it. An HNSW node stays in
	// the graph and still routes searches, so deleting never cuts the graph apart.
	Delete(id int32) error
}

var (
	_ Growable = (*Exact)(nil)
	_ Growable = (*HNSW)(nil)
)

// rows is what both indexes store and serve the same way: the row-major matrix of n vectors of
// dim values and its tombstones, under the lock searches read and Add and Delete write.
type rows struct {
	mu      sync.RWMutex
	deleted tombstones
	vecs    []float32
	dim, n  int
}

// Len returns the number of stored vectors.
func (r *rows) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.n
}

// Dim returns the vector dimension.
func (r *rows) Dim() int { return r.dim }

// Vectors returns the stored row-major matrix. It must not be modified.
func (r *rows) Vectors() []float32 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.vecs
}

// Delete marks id deleted. See [Growable].
func (r *rows) Delete(id int32) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deleted.mark(id, r.n)
}

// tombstones is the deleted set of a growable index, nil until the first Delete.
type tombstones []bool

// mark deletes id of an index holding n vectors.
func (t *tombstones) mark(id int32, n int) error {
	if id < 0 || int(id) >= n {
		return fmt.Errorf("ann: delete %d: no such vector (%d stored)", id, n)
	}
	for len(*t) < n {
		*t = append(*t, false)
	}
	(*t)[id] = true
	return nil
}

// filter returns skip extended by the tombstones; skip itself while nothing is deleted, so that
// an index without deletions adds no closure to a search.
func (t tombstones) filter(skip func(int32) bool) func(int32) bool {
	if t == nil {
		return skip
	}
	return func(id int32) bool {
		return (int(id) < len(t) && t[id]) || (skip != nil && skip(id))
	}
}

// checkAdd validates one vector for Add.
func checkAdd(vec []float32, dim, n int) error {
	if len(vec) != dim {
		return fmt.Errorf("%w: vector has %d values, index dimension is %d", ErrDim, len(vec), dim)
	}
	if n >= math.MaxInt32 {
		return fmt.Errorf("ann: the index holds %d vectors, the int32 ID space is full", n)
	}
	_, err := checkVectors(vec, dim)
	return err
}

// Add stores vec as the next row. See [Growable].
func (x *Exact) Add(vec []float32) (int32, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err := checkAdd(vec, x.dim, x.n); err != nil {
		return 0, err
	}
	// The first Add copies the caller's matrix (its capacity is cut to its length), so a vector
	// given to NewExact is never written.
	x.vecs = append(x.vecs, vec...)
	x.n++
	return int32(x.n - 1), nil
}

// Add inserts vec as a new node (Alg. 1, as in the build) and returns its ID. See [Growable].
func (h *HNSW) Add(vec []float32) (int32, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := checkAdd(vec, h.dim, h.n); err != nil {
		return 0, err
	}
	if h.levelRNG == nil {
		// Seeded by the size at the first Add, so a model file loaded twice grows the same way.
		h.levelRNG = rand.New(rand.NewPCG(h.seed, uint64(h.n)))
	}
	level := min(int(-math.Log(1-h.levelRNG.Float64())/math.Log(float64(h.m))), maxLevels-1)
	id := int32(h.n)
	h.vecs = append(h.vecs, vec...)
	h.levels = append(h.levels, uint8(level))
	h.links0 = append(h.links0, make([]int32, h.m0+1)...)
	if level == 0 {
		h.upperOff = append(h.upperOff, -1)
	} else {
		if len(h.upper)+level*(h.m+1) > math.MaxInt32 {
			return 0, fmt.Errorf("ann: HNSW upper layers exceed %d links", math.MaxInt32)
		}
		h.upperOff = append(h.upperOff, int32(len(h.upper)))
		h.upper = append(h.upper, make([]int32, level*(h.m+1))...)
	}
	h.n++
	if h.entry < 0 {
		h.entry, h.maxLevel = id, level
		return id, nil
	}
	s := h.scratch()
	h.insert(s, id, &builder{})
	h.pool.Put(s)
	return id, nil
}

// scratch takes a pooled scratch sized for the current node count (nodes added since it was
// made need visited marks). The caller holds h.mu.
func (h *HNSW) scratch() *hnswScratch {
	s := h.pool.Get().(*hnswScratch)
	if n := h.n - len(s.vis.marks); n > 0 {
		s.vis.marks = append(s.vis.marks, make([]uint32, n)...)
	}
	return s
}
