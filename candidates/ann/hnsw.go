package ann

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// HNSW defaults. M=16 with efConstruction=200 is the usual operating point
// for 64–128-d embeddings. On the clustered 1M benchmark DefaultEfSearch
// gives recall@100 = 0.998 at ~5,000 queries/s per core, 58x exact search;
// uniform (unclustered) data needs a much larger ef (docs/benchmarks.md).
const (
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEfSearch       = 160

	maxLevels = 32 // levels are stored as uint8; P(level >= 32) = M^-32
)

// HNSWOptions configures [NewHNSW]. The zero value selects the defaults.
type HNSWOptions struct {
	// M is the maximum number of neighbours of a node on layers >= 1 and the
	// number of links a new node makes; layer 0 allows 2*M. Must be >= 2.
	M int

	// EfConstruction is the beam width used while inserting.
	EfConstruction int

	// EfSearch is the default beam width of Search; see SetEfSearch and
	// SearchEf. It is raised to k for each query.
	EfSearch int

	// Seed seeds the level generator.
	Seed uint64

	// Workers is the number of goroutines that insert nodes. 0 means
	// GOMAXPROCS. With 1 the graph is a deterministic function of the
	// vectors, the options and the seed; with more, nodes are inserted
	// concurrently and the exact graph depends on scheduling (see NewHNSW).
	Workers int

	// DropPrunedConnections disables keepPrunedConnections of the neighbour
	// heuristic (Malkov & Yashunin, Alg. 4). By default, when the heuristic
	// keeps fewer than the allowed neighbours, the list is topped up with the
	// closest candidates it discarded, so lists stay full. On the 64-d
	// benchmarks both settings gave the same recall: in high dimension the
	// heuristic seldom discards enough for the top-up to matter.
	DropPrunedConnections bool
}

// HNSW is a hierarchical navigable small-world graph over inner product.
//
// Storage is flat: the vectors are one row-major []float32 (row i is ID i)
// and every neighbour list is a fixed-size block of int32 — a count followed
// by up to M (layers >= 1) or 2M (layer 0) IDs — in one slab per layer group.
// Searches may run concurrently; Add and Delete (live.go) take a write lock
// that searches share for reading.
type HNSW struct {
	rows                      // the vectors; searches read-lock them, Add and Delete write
	levelRNG       *rand.Rand // levels of added nodes
	m, m0          int
	efConstruction int
	efSearch       atomic.Int64
	seed           uint64
	keepPruned     bool

	levels   []uint8
	links0   []int32 // n blocks of m0+1 values: count, then IDs
	upperOff []int32 // start of a node's layer-1 block in upper, -1 for level-0 nodes
	upper    []int32 // per node with level L >= 1: L blocks of m+1 values
	entry    int32   // -1 when empty
	maxLevel int

	pool sync.Pool // *hnswScratch for searches
}

// hnswScratch is the per-goroutine working memory of a search or insertion.
type hnswScratch struct {
	q    []float32 // aligned copy of the query
	vis  visited
	cand bestFirst
	res  kernel.TopK[float32]

	fresh []int32 // unvisited neighbours of the node being expanded
	sink  float32 // keeps the loads of touch alive

	// Insertion only.
	nb          []int32  // neighbour list copied under its lock
	cands, sel  []Result // candidates and selected links of the new node
	pcands      []Result // candidates when pruning a neighbour's list
	psel, pdisc []Result // heuristic output and discards
}

// visited is a generation-stamped visited set: marking is one store and
// resetting is one increment, instead of clearing n entries per search.
type visited struct {
	marks []uint32
	gen   uint32
}

func (v *visited) reset() {
	v.gen++
	if v.gen == 0 { // wrapped: stale stamps could collide
		clear(v.marks)
		v.gen = 1
	}
}

// visit marks id and reports whether it was unvisited.
func (v *visited) visit(id int32) bool {
	if v.marks[id] == v.gen {
		return false
	}
	v.marks[id] = v.gen
	return true
}

// builder holds state needed only while inserting concurrently.
type builder struct {
	locking bool
	locks   []sync.Mutex // one per node, serialising writers of its neighbour lists
	epMu    sync.Mutex   // guards entry and maxLevel
}

// NewHNSW builds an HNSW index over the row-major matrix vectors
// (len(vectors) = n*dim); row i gets ID i. The index keeps vectors without
// copying it; the caller must not modify it afterwards.
//
// Nodes are inserted in ID order. With opts.Workers == 1 the graph is a
// deterministic function of the vectors, the options and the seed. With more
// workers, nodes are inserted concurrently: each is still inserted exactly
// once by the same algorithm within the same list bounds, and the result is
// a valid graph; writers of a neighbour list are serialised by a per-node
// lock, while the searches inside the build read lists without locking and
// may see one mid-update, which only changes the path they take. Which
// neighbours a node ends up with therefore depends on scheduling: parallel
// builds differ slightly from run to run, and so does recall (in our runs,
// in the third decimal).
func NewHNSW(vectors []float32, dim int, opts HNSWOptions) (*HNSW, error) {
	n, err := checkVectors(vectors, dim)
	if err != nil {
		return nil, err
	}
	if opts.M == 0 {
		opts.M = DefaultM
	}
	if opts.EfConstruction == 0 {
		opts.EfConstruction = DefaultEfConstruction
	}
	if opts.EfSearch == 0 {
		opts.EfSearch = DefaultEfSearch
	}
	opts.Workers = kernel.Workers(opts.Workers)
	if opts.M < 2 || opts.M > 1<<15 {
		return nil, fmt.Errorf("ann: HNSW M = %d, want 2..32768", opts.M)
	}
	if opts.EfConstruction < 1 || opts.EfSearch < 1 {
		return nil, fmt.Errorf("ann: HNSW efConstruction = %d and efSearch = %d must be positive", opts.EfConstruction, opts.EfSearch)
	}
	h := &HNSW{
		rows:           rows{vecs: vectors[: n*dim : n*dim], dim: dim, n: n},
		m:              opts.M,
		m0:             2 * opts.M,
		efConstruction: opts.EfConstruction,
		seed:           opts.Seed,
		keepPruned:     !opts.DropPrunedConnections,
		entry:          -1,
	}
	h.efSearch.Store(int64(opts.EfSearch))
	h.assignLevels()
	if err := h.allocLinks(); err != nil {
		return nil, err
	}
	h.build(min(opts.Workers, max(1, n)))
	h.pool.New = func() any { return h.newScratch() }
	return h, nil
}

// assignLevels draws every node's top layer up front from the seeded
// generator: floor(-ln(U)·mL) with mL = 1/ln(M), so P(level >= l) = M^-l.
func (h *HNSW) assignLevels() {
	rng := rand.New(rand.NewPCG(h.seed, 0x9e3779b97f4a7c15))
	ml := 1 / math.Log(float64(h.m))
	h.levels = make([]uint8, h.n)
	for i := range h.levels {
		l := int(-math.Log(1-rng.Float64()) * ml) // 1-U is in (0, 1]
		h.levels[i] = uint8(min(l, maxLevels-1))
	}
}

// allocLinks sizes the neighbour slabs from the levels.
func (h *HNSW) allocLinks() error {
	h.links0 = make([]int32, h.n*(h.m0+1))
	h.upperOff = make([]int32, h.n)
	off := 0
	for i, l := range h.levels {
		if l == 0 {
			h.upperOff[i] = -1
			continue
		}
		if off > math.MaxInt32 {
			return fmt.Errorf("ann: HNSW upper layers exceed %d links", math.MaxInt32)
		}
		h.upperOff[i] = int32(off)
		off += int(l) * (h.m + 1)
	}
	h.upper = make([]int32, off)
	return nil
}

func (h *HNSW) newScratch() *hnswScratch {
	return &hnswScratch{q: alignedVec(h.dim), vis: visited{marks: make([]uint32, h.n)}}
}

// block returns the neighbour block of id on layer: count, then IDs.
func (h *HNSW) block(id int32, layer int) []int32 {
	if layer == 0 {
		o := int(id) * (h.m0 + 1)
		return h.links0[o : o+h.m0+1 : o+h.m0+1]
	}
	o := int(h.upperOff[id]) + (layer-1)*(h.m+1)
	return h.upper[o : o+h.m+1 : o+h.m+1]
}

func (h *HNSW) vec(id int32) []float32 {
	o := int(id) * h.dim
	return h.vecs[o : o+h.dim : o+h.dim]
}

// neighbours returns the neighbour IDs of id on layer. During a concurrent
// build the list is read with atomic loads into s.nb, which the next call
// overwrites. Readers take no lock: writers (serialised by the node lock)
// store the IDs before the count, and every slot below the capacity always
// holds some valid ID, so a reader racing with a rewrite sees a mix of the
// old and new list — harmless for a search — and never an invalid ID.
func (h *HNSW) neighbours(s *hnswScratch, id int32, layer int, b *builder) []int32 {
	blk := h.block(id, layer)
	if b == nil || !b.locking {
		return blk[1 : 1+blk[0]]
	}
	n := int(atomic.LoadInt32(&blk[0]))
	nb := s.nb[:0]
	for i := 1; i <= n; i++ {
		nb = append(nb, atomic.LoadInt32(&blk[i]))
	}
	s.nb = nb
	return nb
}

// setList overwrites the list blk with the IDs of sel. The caller holds the
// node's lock when building concurrently.
func setList(b *builder, blk []int32, sel []Result) {
	if !b.locking {
		for i, r := range sel {
			blk[1+i] = r.ID
		}
		blk[0] = int32(len(sel))
		return
	}
	for i, r := range sel {
		atomic.StoreInt32(&blk[1+i], r.ID)
	}
	atomic.StoreInt32(&blk[0], int32(len(sel)))
}

// greedy walks layer from ep to a local maximum of the score (beam width 1).
func (h *HNSW) greedy(s *hnswScratch, q []float32, ep Result, layer int, b *builder) Result {
	for changed := true; changed; {
		changed = false
		for _, id := range h.neighbours(s, ep.ID, layer, b) {
			if v := dot(h.vec(id), q); v > ep.Score {
				ep, changed = Result{ID: id, Score: v}, true
			}
		}
	}
	return ep
}

// searchLayer is SEARCH-LAYER (Alg. 2) with beam width ef, starting at ep;
// it leaves up to ef results in s.res (a heap, worst at the root).
//
// skip filters the result set, not the traversal: skipped nodes are still
// expanded, and until ef allowed results are held every reached node is
// queued, so a filtered search keeps going until it has ef allowed results
// or has exhausted the layer.
func (h *HNSW) searchLayer(s *hnswScratch, q []float32, ep Result, ef, layer int, skip func(int32) bool, b *builder) {
	s.vis.reset()
	s.vis.visit(ep.ID)
	s.cand = append(s.cand[:0], ep)
	res := s.res[:0]
	if skip == nil || !skip(ep.ID) {
		res = append(res, ep)
	}
	for len(s.cand) > 0 {
		c := s.cand.pop()
		if len(res) >= ef && kernel.Worse(c, res[0]) {
			break // the best unexpanded node is worse than every result
		}
		fresh := s.fresh[:0]
		for _, id := range h.neighbours(s, c.ID, layer, b) {
			if s.vis.visit(id) {
				fresh = append(fresh, id)
			}
		}
		s.fresh = fresh
		s.sink += h.touch(fresh)
		for _, id := range fresh {
			r := Result{ID: id, Score: dot(h.vec(id), q)}
			if !res.Admits(r, ef) {
				continue
			}
			s.cand.push(r)
			if skip != nil && skip(id) {
				continue
			}
			res.Offer(r, ef)
		}
	}
	s.res = res
}

// build inserts nodes 1..n-1; node 0 is the initial entry point.
func (h *HNSW) build(workers int) {
	if h.n == 0 {
		return
	}
	h.entry, h.maxLevel = 0, int(h.levels[0])
	b := &builder{locking: workers > 1}
	if b.locking {
		b.locks = make([]sync.Mutex, h.n)
	}
	scratch := make([]*hnswScratch, workers)
	kernel.For(context.Background(), h.n-1, 1, workers, func(w, i, _ int) error {
		if scratch[w] == nil {
			scratch[w] = h.newScratch()
		}
		h.insert(scratch[w], int32(i+1), b)
		return nil
	})
}

// insert is INSERT (Alg. 1) for a node whose vector is already stored.
func (h *HNSW) insert(s *hnswScratch, id int32, b *builder) {
	level := int(h.levels[id])
	q := h.vec(id)

	if b.locking {
		b.epMu.Lock()
	}
	ep, top := h.entry, h.maxLevel
	// A node that will become the new entry point keeps the lock for its
	// whole insertion (as hnswlib does) so two such nodes cannot interleave.
	// This happens O(log n) times per build.
	newTop := level > top
	if b.locking && !newTop {
		b.epMu.Unlock()
	}

	cur := Result{ID: ep, Score: dot(h.vec(ep), q)}
	for l := top; l > level; l-- {
		cur = h.greedy(s, q, cur, l, b)
	}
	for l := min(level, top); l >= 0; l-- {
		h.searchLayer(s, q, cur, h.efConstruction, l, nil, b)
		cands := append(s.cands[:0], s.res.Sorted()...)
		s.cands = cands
		cur = cands[0]

		var sel []Result
		sel, s.pdisc = h.selectNeighbours(cands, h.m, s.psel[:0], s.pdisc[:0])
		s.sel = append(s.sel[:0], sel...)
		s.psel = sel[:0]

		h.lock(b, id)
		setList(b, h.block(id, l), s.sel)
		h.unlock(b, id)

		mmax := h.m
		if l == 0 {
			mmax = h.m0
		}
		for _, r := range s.sel {
			h.link(s, r.ID, Result{ID: id, Score: r.Score}, l, mmax, b)
		}
	}

	if newTop {
		h.entry, h.maxLevel = id, level
		if b.locking {
			b.epMu.Unlock()
		}
	}
}

func (h *HNSW) lock(b *builder, id int32) {
	if b.locking {
		b.locks[id].Lock()
	}
}

func (h *HNSW) unlock(b *builder, id int32) {
	if b.locking {
		b.locks[id].Unlock()
	}
}

// link adds nr (a new node and its score with e) to e's list on layer,
// re-selecting e's neighbours with the heuristic when the list is full.
func (h *HNSW) link(s *hnswScratch, e int32, nr Result, layer, mmax int, b *builder) {
	h.lock(b, e)
	defer h.unlock(b, e)
	blk := h.block(e, layer)
	n := int(blk[0])
	if n < mmax {
		if b.locking {
			atomic.StoreInt32(&blk[1+n], nr.ID)
			atomic.StoreInt32(&blk[0], int32(n+1))
		} else {
			blk[1+n], blk[0] = nr.ID, int32(n+1)
		}
		return
	}
	ev := h.vec(e)
	cands := append(s.pcands[:0], nr)
	for _, id := range blk[1 : 1+n] {
		cands = append(cands, Result{ID: id, Score: dot(h.vec(id), ev)})
	}
	slices.SortFunc(cands, cmpBestFirst)
	sel, disc := h.selectNeighbours(cands, mmax, s.psel[:0], s.pdisc[:0])
	setList(b, blk, sel)
	s.pcands, s.psel, s.pdisc = cands, sel, disc
}

func cmpBestFirst(a, b Result) int {
	switch {
	case kernel.Worse(b, a):
		return -1
	case kernel.Worse(a, b):
		return 1
	}
	return 0
}

// selectNeighbours is the neighbour-selection heuristic (Alg. 4): walking
// the candidates best first, it keeps one only if it is closer to the base
// node than to every neighbour kept so far, which spreads links across
// directions instead of into one dense cluster. cands must be sorted best
// first with scores relative to the base node. With keepPruned the list is
// topped up to m from the discarded candidates, best first.
//
// As in hnswlib, at most m candidates are returned as they are.
func (h *HNSW) selectNeighbours(cands []Result, m int, sel, disc []Result) ([]Result, []Result) {
	if len(cands) <= m {
		return append(sel, cands...), disc
	}
	for _, c := range cands {
		if len(sel) >= m {
			break
		}
		cv := h.vec(c.ID)
		keep := true
		for _, t := range sel {
			if dot(cv, h.vec(t.ID)) > c.Score {
				keep = false
				break
			}
		}
		if keep {
			sel = append(sel, c)
		} else if h.keepPruned {
			disc = append(disc, c)
		}
	}
	if h.keepPruned {
		for _, c := range disc {
			if len(sel) >= m {
				break
			}
			sel = append(sel, c)
		}
	}
	return sel, disc
}

// touch reads one value from every 64-byte cache line of the given vectors
// and returns their sum (the caller keeps it so the loads are not removed).
// Go has no prefetch instruction; issuing these independent loads before
// scoring lets the CPU fetch all the rows in parallel instead of stalling
// on each in turn. At 1M vectors (256 MB, far beyond cache) this raised
// queries/s by about 1.5x; on cached indexes it costs a few percent.
func (h *HNSW) touch(ids []int32) float32 {
	var a0, a1 float32
	for _, id := range ids {
		v := h.vec(id)
		j := 0
		for ; j+16 < len(v); j += 32 {
			a0 += v[j]
			a1 += v[j+16]
		}
		if j < len(v) {
			a0 += v[j]
		}
	}
	return a0 + a1
}
