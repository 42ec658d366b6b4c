package features

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/popularity"
	"github.com/cascade-rec/cascade/dataset"
)

// BenchmarkMovieLens builds the statistics on replay-v1's train split of a shared MovieLens
// data set and computes the features of its first test steps: the real history (capped at the
// latest 50 entries) at the step's time, and the 500 most popular unseen train items as
// candidates. It skips when ../shared is absent.
//
//	go test -run XXX -bench MovieLens -benchtime 2000x ./features/
func BenchmarkMovieLens(b *testing.B) {
	for _, name := range []string{"ml-100k", "ml-latest-small"} {
		b.Run(name, func(b *testing.B) {
			dir := filepath.Join("..", "..", "shared", "datasets", name)
			if _, err := os.Stat(dir); err != nil {
				b.Skipf("%s not found: %v", dir, err)
			}
			ds, err := dataset.Load(dir, dataset.LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			split := dataset.TemporalSplit(ds.Events, 0.9)
			start := time.Now()
			st, err := Build(context.Background(), split.Train, split.TrainItems, ds, DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			buildSec := time.Since(start).Seconds()
			pop := popularity.Train(split.Train, split.TrainItems, nil)
			x, err := NewExtractor(st, []NamedScorer{{"popularity", pop}}, []string{"popularity"})
			if err != nil {
				b.Fatal(err)
			}
			// The first test steps of users with a history, as a Batch each.
			hist := map[int32][]dataset.Event{}
			for _, e := range split.Train {
				hist[e.User] = append(hist[e.User], e)
			}
			var batches []*Batch
			for _, e := range split.Test {
				h := hist[e.User]
				if len(h) == 0 {
					continue
				}
				h = h[max(0, len(h)-50):]
				q := candidates.Query{User: e.User, Time: e.Time}
				seen := map[int32]bool{}
				for _, he := range h {
					q.History = append(q.History, he.Item)
					q.HistoryTimes = append(q.HistoryTimes, he.Time)
					q.HistoryValues = append(q.HistoryValues, he.Value)
					seen[he.Item] = true
				}
				list, _ := pop.Recommend(context.Background(), q, 500, func(i int32) bool { return seen[i] }, nil)
				bt := &Batch{}
				items := make([]int32, len(list))
				for k, c := range list {
					items[k] = c.Item
				}
				bt.Reset(q, items)
				bt.AddSource("popularity", list)
				batches = append(batches, bt)
				if len(batches) == 256 {
					break
				}
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
			b.StopTimer()
			pairs, occ := st.NumPairs()
			path := filepath.Join(b.TempDir(), "s.features")
			if _, err := st.Save(path); err != nil {
				b.Fatal(err)
			}
			fi, _ := os.Stat(path)
			b.ReportMetric(buildSec, "build-s")
			b.ReportMetric(float64(pairs), "pairs")
			b.ReportMetric(float64(occ), "pair-times")
			b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
			b.ReportMetric(float64(st.SizeBytes())/(1<<20), "mem-MiB")
			b.ReportMetric(float64(x.NumFeatures()), "features")
		})
	}
}

// TestCoocProbe measures how well single features rank on their own, to choose the
// co-occurrence defaults: for the first 3,000 replay-v1 test steps of a shared MovieLens set
// whose target is among the 500 most popular unseen train items, the candidates are ordered by
// one feature (ties by popularity) and ndcg@10 of the target is averaged. It runs only with
// FEATURES_PROBE=1 (about a minute).
//
//	FEATURES_PROBE=1 go test -run CoocProbe -v ./features/
func TestCoocProbe(t *testing.T) {
	if os.Getenv("FEATURES_PROBE") == "" {
		t.Skip("set FEATURES_PROBE=1 to run the co-occurrence probe")
	}
	feats := []string{"cooc", "cooc_cos", "cooc_max", "genre_share", "log_prior", "log_prior_decayed", "item_recent_pop"}
	t.Logf("| data | cooc_window | cooc_history | pair times | %s |", strings.Join(feats, " | "))
	for _, name := range []string{"ml-100k", "ml-latest-small"} {
		ds, err := dataset.Load(filepath.Join("..", "..", "shared", "datasets", name), dataset.LoadOptions{})
		if err != nil {
			t.Skip(err)
		}
		split := dataset.TemporalSplit(ds.Events, 0.9)
		pop := popularity.Train(split.Train, split.TrainItems, nil)
		for _, w := range []int{0, 5, 20} {
			for _, l := range []int{5, 10, 50} {
				cfg := DefaultConfig()
				cfg.CoocWindow, cfg.CoocHistory = w, l
				st, err := Build(context.Background(), split.Train, split.TrainItems, ds, cfg)
				if err != nil {
					t.Fatal(err)
				}
				x, err := NewExtractor(st, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				ndcg, steps := probe(x, split, pop, feats)
				_, occ := st.NumPairs()
				row := fmt.Sprintf("| %s | %d | %d | %d |", name, w, l, occ)
				for _, v := range ndcg {
					row += fmt.Sprintf(" %.4f |", v/float64(steps))
				}
				t.Log(row)
			}
		}
	}
}

func probe(x *Extractor, split dataset.Split, pop *popularity.Model, feats []string) ([]float64, int) {
	hist := map[int32][]dataset.Event{}
	for _, e := range split.Train {
		hist[e.User] = append(hist[e.User], e)
	}
	ndcg := make([]float64, len(feats))
	steps := 0
	var m []float32
	for _, e := range split.Test {
		h := hist[e.User]
		hist[e.User] = append(hist[e.User], e)
		if len(h) == 0 || int(e.Item) >= split.TrainItems {
			continue
		}
		q := candidates.Query{User: e.User, Time: e.Time}
		seen := map[int32]bool{}
		for _, he := range h {
			q.History = append(q.History, he.Item)
			q.HistoryTimes = append(q.HistoryTimes, he.Time)
			seen[he.Item] = true
		}
		list, _ := pop.Recommend(context.Background(), q, 500, func(i int32) bool { return seen[i] }, nil)
		target := slices.IndexFunc(list, func(c candidates.Candidate) bool { return c.Item == e.Item })
		if seen[e.Item] || target < 0 {
			continue
		}
		b := &Batch{}
		items := make([]int32, len(list))
		for i, c := range list {
			items[i] = c.Item
		}
		b.Reset(q, items)
		m, _ = x.Compute(context.Background(), b, m)
		nf := x.NumFeatures()
		for k, f := range feats {
			c := x.Schema().Index(f)
			v := func(i int) float32 {
				if y := m[i*nf+c]; y == y {
					return y
				}
				return float32(math.Inf(-1))
			}
			// Rank of the target: candidates scoring higher, or equal and more popular.
			r := 0
			for i := range items {
				if v(i) > v(target) || (v(i) == v(target) && i < target) {
					r++
				}
			}
			if r < 10 {
				ndcg[k] += 1 / math.Log2(float64(r+2))
			}
		}
		if steps++; steps == 3000 {
			break
		}
	}
	return ndcg, steps
}
