package features

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

// benchWorld is a synthetic log of the size of the reference anchors (6,000 users, 4,000
// items, 1,000,000 events over a year) with Zipf-like item popularity, 20 genres (1–3 per
// item) and a numeric year.
func benchWorld(b *testing.B) *randomWorld {
	const users, items, events = 6000, 4000, 1_000_000
	r := rand.New(rand.NewPCG(42, 42))
	w := &randomWorld{numItems: items}
	w.events = make([]dataset.Event, events)
	for k := range w.events {
		it := int32(float64(items) * math.Pow(r.Float64(), 2.5))
		w.events[k] = dataset.Event{User: int32(r.IntN(users)), Item: it, Time: r.Int64N(365 * day), Value: float32(1 + r.IntN(5))}
	}
	slices.SortStableFunc(w.events, func(a, b dataset.Event) int { return cmp.Compare(a.Time, b.Time) })
	ids, genres := dataset.NewDict(), dataset.NewDict()
	for i := range items {
		ids.Add(fmt.Sprint(i))
	}
	for g := range 20 {
		genres.Add(fmt.Sprint("g", g))
	}
	vals := make([][]int32, items)
	years := make([]float32, items)
	for i := range vals {
		for range 1 + r.IntN(3) {
			if g := int32(r.IntN(20)); !slices.Contains(vals[i], g) {
				vals[i] = append(vals[i], g)
			}
		}
		years[i] = float32(1950 + r.IntN(70))
	}
	w.ds = &dataset.Dataset{Name: "bench", Items: ids, Users: dataset.NewDict(), HasValues: true, ItemAttrs: &dataset.Attributes{
		Categorical: []dataset.CategoricalColumn{{Name: "genres", Dict: genres, Values: vals}},
		Numeric:     []dataset.NumericColumn{{Name: "year", Values: years}},
	}}
	return w
}

var benchOnce struct {
	sync.Once
	w  *randomWorld
	st *Stats
}

func benchStats(b *testing.B) (*randomWorld, *Stats) {
	benchOnce.Do(func() {
		benchOnce.w = benchWorld(b)
		st, err := Build(context.Background(), benchOnce.w.events, benchOnce.w.numItems, benchOnce.w.ds, DefaultConfig())
		if err != nil {
			panic(err)
		}
		benchOnce.st = st
	})
	return benchOnce.w, benchOnce.st
}

// benchBatch is a request of 500 candidates (popular-leaning, as a retrieval stage returns)
// from two sources, with a 50-item history, at time t.
func benchBatch(w *randomWorld, r *rand.Rand, t int64) *Batch {
	seen := map[int32]bool{}
	var hist []int32
	var times []int64
	for len(hist) < 50 {
		it := int32(float64(w.numItems) * math.Pow(r.Float64(), 2))
		if !seen[it] {
			seen[it] = true
			hist = append(hist, it)
			times = append(times, t-int64(50-len(hist))*3600)
		}
	}
	var items []int32
	for len(items) < 500 {
		it := int32(float64(w.numItems) * math.Pow(r.Float64(), 1.5))
		if !seen[it] {
			seen[it] = true
			items = append(items, it)
		}
	}
	b := &Batch{}
	b.Reset(candidates.Query{User: 1, History: hist, HistoryTimes: times, Time: t}, items)
	l1, l2 := make([]candidates.Candidate, 300), make([]candidates.Candidate, 300)
	for k := range 300 {
		l1[k] = candidates.Candidate{Item: items[k], Score: float32(300 - k)}
		l2[k] = candidates.Candidate{Item: items[499-k], Score: float32(k)}
	}
	b.AddSource("ials", l1)
	b.AddSource("pop", l2)
	return b
}

// BenchmarkCompute: one request of 500 candidates × all features with a 50-item history on the
// 1M-event world, on one goroutine. The model scorer is a trivial function (its own cost is not
// the feature stage's), so rank_ and pmi_ are measured. "after" puts the request past the
// window (serving), "inside" in the middle of it (a ranker's training requests). cpu-ms/op is
// the goroutine's thread CPU time, which a loaded machine does not inflate.
//
//	go test -run XXX -bench Compute -benchtime 2000x ./features/
func BenchmarkCompute(b *testing.B) {
	w, st := benchStats(b)
	for _, tc := range []struct {
		name     string
		t        int64
		features []string
	}{
		{"all/after", 366 * day, nil},
		{"all/inside", 180 * day, nil},
		{"no-cooc/after", 366 * day, []string{"score", "rank", "pmi", "src", "srcscore", "srcrank", "log_prior", "log_prior_decayed", "item_age_days", "item_days_since_last", "item_recent_pop", "item_mean_rating", "hist_len", "days_since_last", "user_mean_rating", "genre_share", "genre_match_max", "attr", "attrdiff"}},
		{"cooc-only/after", 366 * day, []string{"cooc", "cooc_max", "cooc_cos"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := *st
			s.cfg.Features = tc.features
			x, err := NewExtractor(&s, []NamedScorer{{"half", halfScorer{int32(w.numItems)}}}, []string{"ials", "pop"})
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 1))
			batches := make([]*Batch, 16)
			for k := range batches {
				batches[k] = benchBatch(w, r, tc.t)
			}
			ctx := context.Background()
			dst, err := x.Compute(ctx, batches[0], nil)
			if err != nil {
				b.Fatal(err)
			}
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			b.ReportAllocs()
			b.ResetTimer()
			c0 := threadCPU()
			for i := 0; b.Loop(); i++ {
				if dst, err = x.Compute(ctx, batches[i%len(batches)], dst); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(threadCPU()-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(x.NumFeatures()), "features")
		})
	}
}

// BenchmarkBuild: statistics of the 1M-event world with the default configuration, and the
// size of the saved artifact.
//
//	go test -run XXX -bench Build -benchtime 3x ./features/
func BenchmarkBuild(b *testing.B) {
	w := benchWorld(b)
	var st *Stats
	for b.Loop() {
		var err error
		if st, err = Build(context.Background(), w.events, w.numItems, w.ds, DefaultConfig()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	path := filepath.Join(b.TempDir(), "bench.features")
	if _, err := st.Save(path); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	pairs, occ := st.NumPairs()
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
	b.ReportMetric(float64(st.SizeBytes())/(1<<20), "mem-MiB")
	b.ReportMetric(float64(pairs), "pairs")
	b.ReportMetric(float64(occ), "pair-times")
}
