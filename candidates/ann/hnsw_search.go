package ann

import (
	"context"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// EfSearch returns the default beam width of Search.
func (h *HNSW) EfSearch() int { return int(h.efSearch.Load()) }

// SetEfSearch sets the default beam width of Search, SearchFiltered and
// SearchBatch; values below 1 are ignored. It is safe to call concurrently
// with searches.
func (h *HNSW) SetEfSearch(ef int) {
	if ef >= 1 {
		h.efSearch.Store(int64(ef))
	}
}

// Search returns approximately the k stored vectors with the largest inner
// product with q, using the default beam width. See [Index].
func (h *HNSW) Search(q []float32, k int, dst []Result) ([]Result, error) {
	return h.SearchEf(q, k, 0, nil, dst)
}

// SearchFiltered is Search over the IDs for which skip returns false. The
// filter applies to the result set, not to the graph walk, so the search
// returns k results whenever k allowed vectors are reachable; the more the
// filter excludes, the more of the graph it explores.
func (h *HNSW) SearchFiltered(q []float32, k int, skip func(id int32) bool, dst []Result) ([]Result, error) {
	return h.SearchEf(q, k, 0, skip, dst)
}

// SearchEf is SearchFiltered with beam width ef for this query; ef <= 0
// selects the default, and ef is raised to k. Larger ef trades speed for
// recall.
func (h *HNSW) SearchEf(q []float32, k, ef int, skip func(id int32) bool, dst []Result) ([]Result, error) {
	if err := checkQuery(q, h.dim); err != nil {
		return dst[:0], err
	}
	h.mu.RLock()
	s := h.scratch()
	copy(s.q, q)
	dst = h.search(s, s.q, k, ef, h.deleted.filter(skip), dst)
	h.mu.RUnlock()
	h.pool.Put(s)
	return dst, nil
}

// search runs a query with scratch s; q must be aligned (see dot.go).
func (h *HNSW) search(s *hnswScratch, q []float32, k, ef int, skip func(int32) bool, dst []Result) []Result {
	k = min(k, h.n)
	if k <= 0 {
		return dst[:0]
	}
	if ef <= 0 {
		ef = int(h.efSearch.Load())
	}
	ef = max(ef, k)
	ep := Result{ID: h.entry, Score: dot(h.vec(h.entry), q)}
	for l := h.maxLevel; l > 0; l-- {
		ep = h.greedy(s, q, ep, l, nil)
	}
	h.searchLayer(s, q, ep, ef, 0, skip, nil)
	res := s.res
	for len(res) > k {
		res.Pop()
	}
	dst = append(dst[:0], res.Sorted()...)
	s.res = res[:0]
	return dst
}

// SearchBatch searches each row of qs with the default beam width, spreading
// queries over GOMAXPROCS goroutines. See [Index].
func (h *HNSW) SearchBatch(qs []float32, k int, skip func(qi int, id int32) bool, dst [][]Result) ([][]Result, error) {
	return h.SearchBatchEf(qs, k, 0, skip, dst)
}

// SearchBatchEf is SearchBatch with beam width ef (see SearchEf).
func (h *HNSW) SearchBatchEf(qs []float32, k, ef int, skip func(qi int, id int32) bool, dst [][]Result) ([][]Result, error) {
	nq, dst, err := batchResults(qs, h.dim, dst)
	if err != nil {
		return dst, err
	}
	h.mu.RLock() // held for the whole batch: its workers read under it
	defer h.mu.RUnlock()
	kernel.For(context.Background(), nq, 1, 0, func(_, i, _ int) error {
		s := h.scratch()
		defer h.pool.Put(s)
		var f func(int32) bool
		if skip != nil {
			f = func(id int32) bool { return skip(i, id) }
		}
		f = h.deleted.filter(f)
		copy(s.q, qs[i*h.dim:(i+1)*h.dim])
		dst[i] = h.search(s, s.q, k, ef, f, dst[i])
		return nil
	})
	return dst, nil
}

// HNSWStats describes a built graph.
type HNSWStats struct {
	Len, Dim       int
	M              int // links per node on layers >= 1 (2M on layer 0)
	EfConstruction int
	EfSearch       int
	MaxLevel       int
	MeanDegree0    float64 // mean number of layer-0 neighbours
	Bytes          int64   // memory held by vectors and graph
}

// Stats returns the graph's parameters and size.
func (h *HNSW) Stats() HNSWStats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var deg int64
	for i := range h.n {
		deg += int64(h.links0[i*(h.m0+1)])
	}
	st := HNSWStats{
		Len:            h.n,
		Dim:            h.dim,
		M:              h.m,
		EfConstruction: h.efConstruction,
		EfSearch:       h.EfSearch(),
		MaxLevel:       h.maxLevel,
		Bytes:          4*int64(len(h.vecs)+len(h.links0)+len(h.upperOff)+len(h.upper)) + int64(len(h.levels)),
	}
	if h.n > 0 {
		st.MeanDegree0 = float64(deg) / float64(h.n)
	}
	return st
}
