package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/cascade-rec/cascade/candidates"
)

// ErrNoEmbeddings is returned by Similar when no model of the pipeline embeds items.
var ErrNoEmbeddings = errors.New("no model of this pipeline embeds items (similar items need a twotower, ials or als model)")

// ErrUnknownItem is returned by Similar for an item outside the models' catalog.
var ErrUnknownItem = errors.New("item is not in the models' catalog")

// similarSearcher is a model that finds nearest items through its own index (the two-tower).
type similarSearcher interface {
	Similar(ctx context.Context, item int32, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error)
}

// factorModel is a matrix-factorisation model (ALS, iALS): items are rows of its item factors.
type factorModel interface {
	ItemFactors() []float32
	Factors() int
}

// Similar returns the k items nearest to item, best first, leaving out the item itself and the
// filter's exclusions: by the two-tower's item embeddings through its ANN index when a source (or
// the fallback) is a two-tower model, else by cosine between ALS/iALS item factors. An item added
// to the living catalog is answered by the two-tower, which embedded it.
func (p *Pipeline) Similar(ctx context.Context, item int32, k int) ([]candidates.Candidate, error) {
	if item < 0 || (int(item) >= p.numItems && !p.isLive(item)) {
		return nil, fmt.Errorf("item %d: %w (%d items)", item, ErrUnknownItem, p.numItems)
	}
	var models []Model
	for _, s := range p.sources {
		models = append(models, s.m)
	}
	models = append(models, p.fallback)
	for _, m := range models {
		if s, ok := m.(similarSearcher); ok {
			res, err := s.Similar(ctx, item, k, p.isExcluded, nil)
			if err != nil && int(item) >= p.numItems && ctx.Err() == nil {
				// A catalog item the model never embedded (changed without attributes).
				return nil, fmt.Errorf("item %d: %w (%v)", item, ErrUnknownItem, err)
			}
			return res, err
		}
	}
	for _, m := range models {
		if f, ok := m.(factorModel); ok {
			return cosineNearest(ctx, f.ItemFactors(), f.Factors(), item, k, p.isExcluded)
		}
	}
	return nil, ErrNoEmbeddings
}

// cosineNearest scans row-major vectors (d wide) for the k nearest to row item by cosine. A
// factor model has no index; one scan of the catalog is O(items·d), a few milliseconds at 100K
// items.
func cosineNearest(ctx context.Context, vecs []float32, d int, item int32, k int, skip func(int32) bool) ([]candidates.Candidate, error) {
	n := len(vecs) / d
	if int(item) >= n {
		return nil, fmt.Errorf("item %d: %w (%d items in the factors)", item, ErrUnknownItem, n)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := vecs[int(item)*d : (int(item)+1)*d]
	qn := norm(q)
	scores := make([]float32, n)
	for i := range scores {
		v := vecs[i*d : (i+1)*d]
		var dot float32
		for j, x := range v {
			dot += x * q[j]
		}
		if vn := norm(v); vn > 0 && qn > 0 {
			scores[i] = dot / (vn * qn)
		}
	}
	return candidates.TopK(scores, k, func(id int32) bool { return id == item || skip(id) }, nil), nil
}

func norm(v []float32) float32 {
	var s float32
	for _, x := range v {
		s += x * x
	}
	return float32(math.Sqrt(float64(s)))
}
