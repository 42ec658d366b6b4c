package features

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
)

// TestZeroAllocs: once the pools and the output matrix have grown, a batch allocates nothing.
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	w := newRandomWorld(5, 60, 200, 5000)
	st, err := Build(context.Background(), w.events, w.numItems, w.ds, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewExtractor(st, []NamedScorer{{"half", halfScorer{int32(w.numItems)}}}, []string{"src", "other"})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	b := w.query(r, 4, 90*day, 150)
	lists := [][]candidates.Candidate{make([]candidates.Candidate, 0, 80), make([]candidates.Candidate, 0, 80)}
	for k, it := range b.Items[:80] {
		lists[0] = append(lists[0], candidates.Candidate{Item: it, Score: float32(k)})
		lists[1] = append(lists[1], candidates.Candidate{Item: b.Items[len(b.Items)-1-k], Score: 1})
	}
	items := append([]int32(nil), b.Items...)
	dst, err := x.Compute(context.Background(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(50, func() {
		b.Reset(b.Query, items)
		b.AddSource("src", lists[0])
		b.AddSource("other", lists[1])
		if dst, err = x.Compute(ctx, b, dst); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per batch, want 0", allocs)
	}
}

// TestConcurrent: many goroutines sharing an extractor (and its pools) get the sequential
// results. Run with -race.
func TestConcurrent(t *testing.T) {
	w := newRandomWorld(6, 40, 120, 3000)
	st, err := Build(context.Background(), w.events, w.numItems, w.ds, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewExtractor(st, []NamedScorer{{"half", halfScorer{int32(w.numItems)}}}, []string{"src"})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 2))
	var batches []*Batch
	var want [][]float32
	for k := range 16 {
		b := w.query(r, int32(k), int64(10+5*k)*day, 10+7*k)
		batches = append(batches, b)
		want = append(want, compute(t, x, b))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			var dst []float32
			for rep := range 20 {
				k := (g*7 + rep) % len(batches)
				var err error
				if dst, err = x.Compute(context.Background(), batches[k], dst); err != nil {
					t.Error(err)
					return
				}
				if err := sameBits(want[k], dst); err != nil {
					t.Errorf("goroutine %d batch %d: %v", g, k, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
