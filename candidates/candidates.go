// Package candidates owns the first stage of the design: the request a candidate source answers
// (Query), the scored items it returns (Candidate), and the bounded top-k selection every source
// shares. The sources themselves live in subpackages: popularity, als (explicit ALS and iALS),
// twotower, and ann (the exact and HNSW indexes the two-tower searches).
package candidates

import "context"

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
// breaks ties the same deterministic way.
func Better(a, b Candidate) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Item < b.Item
}

// TopK selects the k best items of scores (indexed by item ID), skipping those for which skip
// returns true (skip may be nil). The result, best first, is appended to dst[:0].
// It keeps a bounded min-heap, so it costs O(n log k) and allocates only when dst is too small.
func TopK(scores []float32, k int, skip func(int32) bool, dst []Candidate) []Candidate {
	h := dst[:0]
	if k <= 0 {
		return h
	}
	for i, s := range scores {
		id := int32(i)
		c := Candidate{Item: id, Score: s}
		if len(h) == k {
			if !Better(c, h[0]) {
				continue
			}
			if skip != nil && skip(id) {
				continue
			}
			h[0] = c
			siftDown(h, 0)
			continue
		}
		if skip != nil && skip(id) {
			continue
		}
		h = append(h, c)
		siftUp(h, len(h)-1)
	}
	// Heap-sort in place: repeatedly move the worst to the end.
	for n := len(h) - 1; n > 0; n-- {
		h[0], h[n] = h[n], h[0]
		siftDown(h[:n], 0)
	}
	return h
}

// The heap is a min-heap under Better: h[0] is the worst kept candidate.
func siftUp(h []Candidate, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !Better(h[p], h[i]) {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func siftDown(h []Candidate, i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && Better(h[l], h[r]) {
			w = r
		}
		if !Better(h[i], h[w]) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}
