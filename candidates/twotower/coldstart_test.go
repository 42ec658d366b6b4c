//go:build coldstart

package twotower

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/synth"
)

// TestColdStartReplay measures what the item tower's cold-start embeddings give for items
// released after the cut (issue 14), replay-v1 style on the synthetic world:
//
//	CASCADE_SEEDS=1,2,3 go test -tags coldstart -run TestColdStartReplay -v -timeout 60m ./candidates/twotower/
//
// Each world (cascade gen defaults at 6,000 users, 4,000 items, 300,000 events; 15 % of
// the items are released during the window) is split at 90 % of its events. The two-tower trains
// on the train split, so it knows items [0, TrainItems). The test events are then replayed in
// time order: each item released after the cut enters the catalog at its release time (the
// POST /v1/items a shop would send), with an embedding from its attributes alone (genres, year,
// price), and every test event whose item is such a new item is a step: is it in the top 100 of
// the user's list (history = every earlier event of theirs, seen items left out)? Baselines:
// live popularity (train events plus the test events replayed so far: a new item climbs as it is
// consumed) over the whole catalog and over the released new items, and a random pick of 100
// released new items.
func TestColdStartReplay(t *testing.T) {
	seeds := []int64{1}
	if v := os.Getenv("CASCADE_SEEDS"); v != "" {
		seeds = nil
		for _, f := range strings.Split(v, ",") {
			var s int64
			fmt.Sscan(f, &s)
			seeds = append(seeds, s)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) { coldStartWorld(t, seed) })
	}
}

func coldStartWorld(t *testing.T, seed int64) {
	ctx := context.Background()
	cfg := synth.DefaultConfig()
	cfg.Users, cfg.Items, cfg.Events, cfg.Seed, cfg.Impressions = 6000, 4000, 300_000, seed, 0
	world, err := synth.Generate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := world.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Load(dir, dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	split := dataset.TemporalSplit(ds.Events, 0.9)
	// release[i] is dense item i's release time (the world's truth, by external ID "i<n>").
	release := make([]int64, ds.Items.Len())
	for i := range release {
		var n int
		fmt.Sscanf(ds.Items.String(int32(i)), "i%d", &n)
		release[i] = world.Items[n].Release
	}
	var newItems []int32 // released after the cut, by release time
	for it := split.TrainItems; it < ds.Items.Len(); it++ {
		newItems = append(newItems, int32(it))
	}
	slices.SortFunc(newItems, func(a, b int32) int { return int(release[a] - release[b]) })
	steps := 0
	for _, e := range split.Test {
		if int(e.Item) >= split.TrainItems {
			steps++
		}
	}
	t.Logf("world: %s; cut %s; %d trained items, %d items new after the cut, %d test events, %d of them on new items",
		ds.String(), time.Unix(split.Cut, 0).UTC().Format(time.RFC3339), split.TrainItems, len(newItems), len(split.Test), steps)

	for _, dropout := range []float64{0, 0.3} {
		p := DefaultParams()
		p.Dim, p.Hidden, p.HistoryLen, p.Epochs, p.IDDropout = 32, []int{64}, 30, 10, dropout
		start := time.Now()
		m, st, err := Train(ctx, TrainData{Events: split.Train, NumUsers: split.TrainUsers, NumItems: split.TrainItems, ItemAttrs: ds.ItemAttrs}, p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("id_dropout %.1f: trained %d epochs in %s (validation recall@100 %.4f)", dropout, st.Epochs, time.Since(start).Round(time.Second), st.ValidationRecall[max(0, st.BestEpoch-1)])
		if err := m.UseAttributes(ds.ItemAttrs); err != nil {
			t.Fatal(err)
		}
		r := coldReplay(t, m, ds, split, newItems, release)
		t.Logf("id_dropout %.1f: recall@100 of the %d new-item events: two-tower cold-start %.4f over the whole catalog, %.4f among released new items; live popularity %.4f / %.4f; random among released new items %.4f; the two-tower's new items in its top 100: %.1f on average",
			dropout, r.steps, r.tower, r.towerNew, r.pop, r.popNew, r.random, r.newShare)
	}
}

type coldResult struct {
	steps                                int
	tower, towerNew, pop, popNew, random float64
	newShare                             float64
}

func coldReplay(t *testing.T, m *Model, ds *dataset.Dataset, split dataset.Split, newItems []int32, release []int64) coldResult {
	ctx := context.Background()
	const k = 100
	hist := make([][]int32, ds.NumUsers())
	counts := make([]float32, ds.Items.Len())
	for _, e := range split.Train {
		hist[e.User] = append(hist[e.User], e.Item)
		counts[e.Item]++
	}
	rng := rand.New(rand.NewPCG(1, 2))
	released := map[int32]bool{}
	next := 0
	var r coldResult
	var hits [5]int
	var inTop int
	scores := make([]float32, ds.Items.Len())
	var dst []candidates.Candidate
	for _, e := range split.Test {
		for next < len(newItems) && release[newItems[next]] <= e.Time {
			it := newItems[next]
			attrs := ds.ItemAttrs.Of(it)
			if err := m.SetLiveItems([]LiveItem{{ID: it, Attrs: attrs}}); err != nil {
				t.Fatal(err)
			}
			released[it] = true
			next++
		}
		if int(e.Item) >= split.TrainItems {
			if !released[e.Item] {
				t.Fatalf("item %d consumed at %d before its release %d", e.Item, e.Time, release[e.Item])
			}
			r.steps++
			h := hist[e.User]
			seen := func(id int32) bool { return slices.Contains(h, id) }
			q := candidates.Query{User: e.User, History: h, Time: e.Time}
			var err error
			if dst, err = m.Recommend(ctx, q, k, nil, dst); err != nil {
				t.Fatal(err)
			}
			hits[0] += hit(dst, e.Item)
			for _, c := range dst {
				if int(c.Item) >= split.TrainItems {
					inTop++
				}
			}
			if dst, err = m.Recommend(ctx, q, k, func(id int32) bool { return int(id) < split.TrainItems }, dst); err != nil {
				t.Fatal(err)
			}
			hits[1] += hit(dst, e.Item)
			// Ties (most new items have no event yet) are broken at random: dense IDs follow first
			// consumption, so an ID tie-break would point at the next item to be consumed.
			for i := range scores {
				scores[i] = counts[i] + 0.5*rng.Float32()
			}
			dst = candidates.TopK(scores, k, func(id int32) bool {
				return seen(id) || (int(id) >= split.TrainItems && !released[id])
			}, dst)
			hits[2] += hit(dst, e.Item)
			dst = candidates.TopK(scores, k, func(id int32) bool { return seen(id) || !released[id] }, dst)
			hits[3] += hit(dst, e.Item)
			pool := slices.DeleteFunc(slices.Collect(mapKeys(released)), seen)
			rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
			if slices.Contains(pool[:min(k, len(pool))], e.Item) {
				hits[4]++
			}
		}
		hist[e.User] = append(hist[e.User], e.Item)
		counts[e.Item]++
	}
	n := float64(r.steps)
	r.tower, r.towerNew, r.pop, r.popNew, r.random = float64(hits[0])/n, float64(hits[1])/n, float64(hits[2])/n, float64(hits[3])/n, float64(hits[4])/n
	r.newShare = float64(inTop) / n
	return r
}

func hit(list []candidates.Candidate, item int32) int {
	for _, c := range list {
		if c.Item == item {
			return 1
		}
	}
	return 0
}

func mapKeys(m map[int32]bool) func(func(int32) bool) {
	return func(yield func(int32) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
