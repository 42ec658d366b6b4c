package ann

import (
	"context"
	"slices"
	"sync"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// DefaultExactParallelRows is the catalogue size from which [Exact] splits a
// single query across goroutines. Below it a query costs under ~0.5 ms on
// one core here and waking a second goroutine gains less than it costs,
// especially when the server already runs one query per core.
const DefaultExactParallelRows = 1 << 16

// ExactOptions configures [NewExact]. The zero value selects the defaults.
type ExactOptions struct {
	// Workers bounds the goroutines one query may use. 0 means the value of
	// GOMAXPROCS when the index is built; 1 disables intra-query parallelism.
	Workers int

	// ParallelRows is the minimum number of stored vectors for a query to
	// be split across Workers goroutines. 0 means DefaultExactParallelRows.
	ParallelRows int
}

// Exact is a brute-force inner-product index. It scores every stored vector,
// so its recall is 1; it is the ground truth for [HNSW] and the right choice
// for small catalogues.
type Exact struct {
	rows             // the vectors; searches read-lock them, Add and Delete (live.go) write
	block        int // rows scored per Sgemv call: ~64 KiB of vectors, so a block stays in L2
	workers      int
	parallelRows int
	pool         sync.Pool // *exactScratch
}

// exactScratch holds everything one query needs, so that steady-state
// searches allocate nothing.
type exactScratch struct {
	q     []float32 // aligned copy of the query
	parts []exactPart
	wg    sync.WaitGroup
}

// exactPart is one goroutine's share of a parallel query. run is created
// once per scratch: `go p.run()` on a prebuilt func value does not allocate,
// whereas a go statement with arguments allocates its closure every time.
type exactPart struct {
	lo, hi int
	k      int
	skip   func(int32) bool
	top    kernel.TopK[float32]
	scores []float32
	run    func()
}

// NewExact returns an exact index over the row-major matrix vectors
// (len(vectors) = n*dim). The index keeps vectors without copying it; the
// caller must not modify it afterwards.
func NewExact(vectors []float32, dim int, opts ExactOptions) (*Exact, error) {
	n, err := checkVectors(vectors, dim)
	if err != nil {
		return nil, err
	}
	x := &Exact{
		rows:         rows{vecs: vectors[: n*dim : n*dim], dim: dim, n: n},
		block:        max(16, 16384/dim),
		workers:      kernel.Workers(opts.Workers),
		parallelRows: opts.ParallelRows,
	}
	if x.parallelRows <= 0 {
		x.parallelRows = DefaultExactParallelRows
	}
	x.pool.New = func() any { return x.newScratch() }
	return x, nil
}

func (x *Exact) newScratch() *exactScratch {
	s := &exactScratch{q: alignedVec(x.dim), parts: make([]exactPart, x.workers)}
	for i := range s.parts {
		p := &s.parts[i]
		p.scores = make([]float32, x.block)
		p.run = func() {
			p.top = x.scan(s.q, p.lo, p.hi, p.k, p.skip, p.top[:0], p.scores)
			s.wg.Done()
		}
	}
	return s
}

// Search returns the k stored vectors with the largest inner product with q.
// See [Index] for the ordering and buffer contract.
func (x *Exact) Search(q []float32, k int, dst []Result) ([]Result, error) {
	return x.SearchFiltered(q, k, nil, dst)
}

// SearchFiltered is Search restricted to the IDs for which skip returns
// false. A nil skip excludes nothing.
func (x *Exact) SearchFiltered(q []float32, k int, skip func(id int32) bool, dst []Result) ([]Result, error) {
	if err := checkQuery(q, x.dim); err != nil {
		return dst[:0], err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.searchLocked(q, k, x.deleted.filter(skip), dst), nil
}

// searchLocked is SearchFiltered for a caller holding x.mu (for reading).
func (x *Exact) searchLocked(q []float32, k int, skip func(id int32) bool, dst []Result) []Result {
	k = min(k, x.n)
	if k <= 0 {
		return dst[:0]
	}
	s := x.pool.Get().(*exactScratch)
	copy(s.q, q)
	// The result buffer doubles as the heap, then is heapsorted in place.
	top := kernel.TopK[float32](slices.Grow(dst[:0], k))
	if x.workers == 1 || x.n < x.parallelRows {
		top = x.scan(s.q, 0, x.n, k, skip, top, s.parts[0].scores)
	} else {
		top = x.scanParallel(s, k, skip, top)
	}
	x.pool.Put(s)
	return top.Sorted()
}

// scanParallel splits the rows into one contiguous chunk per worker, scans
// the first chunk on the calling goroutine and merges the other heaps.
func (x *Exact) scanParallel(s *exactScratch, k int, skip func(int32) bool, top kernel.TopK[float32]) kernel.TopK[float32] {
	w := len(s.parts)
	chunk := (x.n + w - 1) / w
	chunk = (chunk + x.block - 1) / x.block * x.block
	used := 1
	for i := 1; i < w && i*chunk < x.n; i++ {
		p := &s.parts[i]
		p.lo, p.hi, p.k, p.skip = i*chunk, min((i+1)*chunk, x.n), k, skip
		s.wg.Add(1)
		go p.run()
		used++
	}
	top = x.scan(s.q, 0, min(chunk, x.n), k, skip, top, s.parts[0].scores)
	s.wg.Wait()
	for i := 1; i < used; i++ {
		p := &s.parts[i]
		for _, r := range p.top {
			top.Offer(r, k)
		}
		p.skip = nil // do not keep the caller's closure alive in the pool
	}
	return top
}

// scan offers rows [lo, hi) to top, scoring them block by block.
func (x *Exact) scan(q []float32, lo, hi, k int, skip func(int32) bool, top kernel.TopK[float32], scores []float32) kernel.TopK[float32] {
	dim := x.dim
	for b := lo; b < hi; b += x.block {
		e := min(b+x.block, hi)
		sc := scores[:e-b]
		scoreBlock(x.vecs[b*dim:e*dim], dim, q, sc)
		top.Scan(sc, int32(b), k, skip)
	}
	return top
}

// SearchBatch searches each row of qs. Queries are split across Workers
// goroutines; each goroutine walks the catalogue once, block by block, and
// scores all of its queries against a block while it is in cache.
func (x *Exact) SearchBatch(qs []float32, k int, skip func(qi int, id int32) bool, dst [][]Result) ([][]Result, error) {
	nq, dst, err := batchResults(qs, x.dim, dst)
	if err != nil {
		return dst, err
	}
	x.mu.RLock() // held for the whole batch: its workers read under it
	defer x.mu.RUnlock()
	if x.deleted != nil {
		user, dead := skip, x.deleted.filter(nil)
		skip = func(qi int, id int32) bool { return dead(id) || (user != nil && user(qi, id)) }
	}
	k = min(k, x.n)
	if k <= 0 || nq == 0 {
		return dst, nil
	}
	w := min(x.workers, nq)
	if w < x.workers && x.n >= x.parallelRows {
		// Too few queries to occupy the workers: parallelise each query instead.
		for i := range dst {
			var f func(int32) bool
			if skip != nil {
				f = func(id int32) bool { return skip(i, id) }
			}
			dst[i] = x.searchLocked(qs[i*x.dim:(i+1)*x.dim], k, f, dst[i])
		}
		return dst, nil
	}
	// Copy the queries with a stride of whole 16-byte units so that every
	// row is aligned and scores match Search bit for bit (see dot.go).
	stride := alignedLen(x.dim)
	aq := alignedVec(nq * stride)
	for i := range nq {
		copy(aq[i*stride:], qs[i*x.dim:(i+1)*x.dim])
	}
	// One contiguous range of queries per worker.
	kernel.For(context.Background(), nq, (nq+w-1)/w, w, func(_, lo, hi int) error {
		x.batchRange(aq, stride, lo, hi, k, skip, dst)
		return nil
	})
	return dst, nil
}

func (x *Exact) batchRange(qs []float32, stride, lo, hi, k int, skip func(int, int32) bool, dst [][]Result) {
	dim := x.dim
	tops := make([]kernel.TopK[float32], hi-lo)
	skips := make([]func(int32) bool, hi-lo)
	for i := range tops {
		tops[i] = kernel.TopK[float32](slices.Grow(dst[lo+i][:0], k))
		if skip != nil {
			qi := lo + i
			skips[i] = func(id int32) bool { return skip(qi, id) }
		}
	}
	scores := make([]float32, x.block)
	for b := 0; b < x.n; b += x.block {
		e := min(b+x.block, x.n)
		rows := x.vecs[b*dim : e*dim]
		sc := scores[:e-b]
		for i := range tops {
			qi := lo + i
			scoreBlock(rows, dim, qs[qi*stride:qi*stride+dim], sc)
			tops[i].Scan(sc, int32(b), k, skips[i])
		}
	}
	for i, top := range tops {
		dst[lo+i] = top.Sorted()
	}
}
