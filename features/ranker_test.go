package features

import (
	"context"
	"math"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/popularity"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

// The ranker package's feature hook is the way the features reach its ranking sets.
var _ ranker.FeatureProvider = (*Provider)(nil)

// TestProvider: the ranker adapter fills its block of a wider row exactly as Compute does for
// a batch with the list as its one source, and leaves the other columns alone.
func TestProvider(t *testing.T) {
	x := tinyExtractor(t, tinyLog(), tinyConfig())
	b := tinyBatch()
	cands := make([]candidates.Candidate, len(b.Items))
	for i, it := range b.Items {
		cands[i] = candidates.Candidate{Item: it, Score: float32(10 - i)}
	}
	b.Reset(b.Query, b.Items)
	b.AddSource("ials", cands)
	want := compute(t, x, b)

	nf := x.NumFeatures()
	stride := nf + 2
	wide := make([]float32, len(cands)*stride)
	for i := range wide {
		wide[i] = -7
	}
	p := x.Provider("ials")
	if len(p.FeatureNames()) != nf {
		t.Fatal("FeatureNames")
	}
	if err := p.Features(context.Background(), b.Query, cands, wide[1:], stride); err != nil {
		t.Fatal(err)
	}
	for i := range cands {
		if err := sameBits(want[i*nf:(i+1)*nf], wide[i*stride+1:i*stride+1+nf]); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if wide[i*stride] != -7 || wide[i*stride+1+nf] != -7 {
			t.Fatalf("row %d: columns outside the block were written", i)
		}
	}
}

// TestRankerSet builds a ranking set through the ranker package with the extractor as its
// feature provider: the set's schema is the extractor's, and each request's dense rows are what
// Compute gives for the same query and list.
func TestRankerSet(t *testing.T) {
	w := newRandomWorld(8, 20, 40, 600)
	cut := len(w.events) * 3 / 4
	train := w.events[:cut]
	st, err := Build(context.Background(), train, w.numItems, w.ds, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	pop := popularity.Train(train, w.numItems, nil)
	x, err := NewExtractor(st, []NamedScorer{{"popularity", pop}}, []string{"popularity"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := ranker.BuildFromLog(context.Background(), w.events, cut, len(w.events), ranker.LogOptions{
		Source: pop, K: 20, Features: []ranker.FeatureProvider{x.Provider("popularity")}, Workers: 2,
		Progress: progress.Options{Disabled: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Schema().Check(set.FeatureNames); err != nil {
		t.Fatal(err)
	}
	if len(set.Requests) == 0 {
		t.Fatal("no requests")
	}
	nf := x.NumFeatures()
	// The set keeps neither the history's times nor its ratings, which the builder passed to the
	// features: those two columns cannot be recomputed from it.
	skipTimes, skipRatings := x.Schema().Index("days_since_last"), x.Schema().Index("user_mean_rating")
	var b Batch
	for k, r := range set.Requests {
		b.Reset(candidates.Query{User: r.User, History: r.History, Time: r.Time}, r.Items)
		list := make([]candidates.Candidate, len(r.Items))
		for i, it := range r.Items {
			list[i] = candidates.Candidate{Item: it, Score: float32(pop.Count(it))}
		}
		b.AddSource("popularity", list)
		want := compute(t, x, &b)
		for i := range r.Items {
			for c := range nf {
				if c == skipTimes || c == skipRatings {
					continue
				}
				if g, w := r.Dense[i*nf+c], want[i*nf+c]; math.Float32bits(g) != math.Float32bits(w) {
					t.Fatalf("request %d candidate %d: %s = %v in the set, %v from Compute", k, i, x.FeatureNames()[c], g, w)
				}
			}
		}
	}
}
