// Package candidates owns the first stage of the design: the request a candidate source answers
// (Query), the scored items it returns (Candidate), and the bounded top-k selection every source
// shares. The sources themselves live in subpackages: popularity, als (explicit ALS and iALS),
// twotower, and ann (the exact and HNSW indexes the two-tower searches).
package candidates

import (
	"context"
	"sync"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// Source proposes candidates for a query: its n best items, best first, leaving out every item
// for which skip returns true (skip may be nil). The result is appended to dst[:0]. Sources are
// safe for concurrent use and keep their per-request scratch in pools, so a steady stream of
// requests does not allocate per candidate.
type Source interface {
	Recommend(ctx context.Context, q Query, n int, skip func(int32) bool, dst []Candidate) ([]Candidate, error)
}

// Scorer scores given items for a query (a model's score as a ranking feature). dst[i] receives
// the score of items[i]; items the model does not know get NaN.
type Scorer interface {
	Score(ctx context.Context, q Query, items []int32, dst []float32) error
}

// Query is one "what should this user see next?" request as a candidate source sees it.
type Query struct {
	// User is the dense user ID, or -1 for a user the models have never seen.
	User int32
	// History holds the user's dense item IDs in time order (oldest first). Items a model does not
	// know (ID ≥ its catalog size) are ignored by that model.
	History []int32
	// HistoryTimes, when set, has the Unix time of each History entry.
	HistoryTimes []int64
	// HistoryValues, when set, has the explicit rating of each History entry (NaN if none).
	HistoryValues []float32
	// Time is the request's Unix time (for context features).
	Time int64
}

// Candidate is an item with a source's score for it.
type Candidate struct {
	Item  int32
	Score float32
}

// Better orders candidates by score descending, then item ID ascending, so that every source
// breaks ties the same deterministic way (the order of kernel.Worse, which every top-k uses).
func Better(a, b Candidate) bool {
	return kernel.Worse(scored(b), scored(a))
}

func scored(c Candidate) kernel.Scored[float32] {
	return kernel.Scored[float32]{ID: c.Item, Score: c.Score}
}

// heaps holds TopK's heaps between calls.
var heaps = sync.Pool{New: func() any { return new(kernel.TopK[float32]) }}

// TopK selects the k best items of scores (indexed by item ID), skipping those for which skip
// returns true (skip may be nil; it is called only for items that would enter the selection).
// The result, best first, is appended to dst[:0]. It keeps a bounded min-heap, so it costs
// O(n log k), and allocates nothing in steady state when dst is large enough.
func TopK(scores []float32, k int, skip func(int32) bool, dst []Candidate) []Candidate {
	dst = dst[:0]
	if k <= 0 {
		return dst
	}
	h := heaps.Get().(*kernel.TopK[float32])
	*h = (*h)[:0]
	h.Scan(scores, 0, k, skip)
	for _, x := range h.Sorted() {
		dst = append(dst, Candidate{Item: x.ID, Score: x.Score})
	}
	heaps.Put(h)
	return dst
}
