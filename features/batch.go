package features

import (
	"math"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/internal/kernel"
)

// Batch is one request's candidates: the query, the candidate items, and what each retrieval
// source said about them. A Batch may be reused across requests (Reset, then AddSource) so that
// a steady stream of requests does not allocate; it is not safe for concurrent modification.
type Batch struct {
	Query candidates.Query
	// Items are the candidates (distinct: a repeated item only gets source data at its first
	// position through AddSource).
	Items []int32
	// Sources holds, per retrieval source, its view of every candidate.
	Sources []SourceList

	index itemIndex // Items → position, built lazily by AddSource
	fresh bool      // index matches Items
}

// SourceList is one retrieval source's view of a batch: Scores[i] and Ranks[i] describe Items[i].
type SourceList struct {
	Name string
	// Scores[i] is the source's score of the candidate, NaN if the source did not propose it.
	// Nil means the source has no scores (srcscore_ is then NaN).
	Scores []float32
	// Ranks[i] is the candidate's 1-based rank in the source's list, 0 if not proposed.
	Ranks []int32
}

// Reset starts a new request: it copies items, and empties Sources while keeping their storage.
func (b *Batch) Reset(q candidates.Query, items []int32) {
	b.Query = q
	b.Items = append(b.Items[:0], items...)
	b.Sources = b.Sources[:0]
	b.fresh = false
}

// AddSource records a source's list (best first) for the batch's items: each item of the list
// that is a candidate gets the list's score and its 1-based position; the other candidates get
// NaN and 0. Items of the list that are not candidates are ignored.
func (b *Batch) AddSource(name string, list []candidates.Candidate) {
	n := len(b.Items)
	if !b.fresh {
		b.index.reset(n)
		for i, it := range b.Items {
			b.index.insert(it, int32(i))
		}
		b.fresh = true
	}
	var sl *SourceList
	if len(b.Sources) < cap(b.Sources) {
		b.Sources = b.Sources[:len(b.Sources)+1]
	} else {
		b.Sources = append(b.Sources, SourceList{})
	}
	sl = &b.Sources[len(b.Sources)-1]
	sl.Name = name
	sl.Scores = kernel.Grow(sl.Scores, n)
	sl.Ranks = kernel.Grow(sl.Ranks, n)
	nan := float32(math.NaN())
	for i := range n {
		sl.Scores[i], sl.Ranks[i] = nan, 0
	}
	for r, c := range list {
		if i := b.index.get(c.Item); i >= 0 && sl.Ranks[i] == 0 {
			sl.Scores[i], sl.Ranks[i] = c.Score, int32(r+1)
		}
	}
}

// itemIndex is an open-addressing hash map from item IDs (≥ 0) to int32 values, reset per
// request without allocating once it has grown to the request size.
type itemIndex struct {
	keys  []int32 // -1: empty
	vals  []int32
	shift uint32
}

// reset empties the map and sizes it for n keys (load factor ≤ 1/2).
func (h *itemIndex) reset(n int) {
	size, bits := 16, uint32(4)
	for size < 2*n {
		size <<= 1
		bits++
	}
	h.shift = 32 - bits
	if cap(h.keys) < size {
		h.keys = make([]int32, size)
		h.vals = make([]int32, size)
	}
	h.keys, h.vals = h.keys[:size], h.vals[:size]
	for i := range h.keys {
		h.keys[i] = -1
	}
}

func (h *itemIndex) slot(k int32) uint32 { return (uint32(k) * 0x9E3779B1) >> h.shift }

// insert adds k → v unless k is present, and returns the value k maps to. Negative keys are not
// stored (they are never valid items) and return v. insert and get keep their own probe loops
// rather than share one: each then fits the inlining budget, which matters once per candidate
// (sharing measured 35% slower).
func (h *itemIndex) insert(k, v int32) int32 {
	if k < 0 {
		return v
	}
	mask := uint32(len(h.keys) - 1)
	for i := h.slot(k); ; i = (i + 1) & mask {
		switch h.keys[i] {
		case k:
			return h.vals[i]
		case -1:
			h.keys[i], h.vals[i] = k, v
			return v
		}
	}
}

// get returns the value of k, or -1.
func (h *itemIndex) get(k int32) int32 {
	if k < 0 || len(h.keys) == 0 {
		return -1
	}
	mask := uint32(len(h.keys) - 1)
	for i := h.slot(k); ; i = (i + 1) & mask {
		switch h.keys[i] {
		case k:
			return h.vals[i]
		case -1:
			return -1
		}
	}
}
