package ranker

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

// handImpressions: user 0 took item 1 on day 0, then 3 at day 10 + 12 h and 4 on day 12. The
// catalog is items 0–5. Slates (Query.Time, shown items with position, propensity, click):
func handImpressions(withC bool) []Impression {
	q := func(u int32, t int64) candidates.Query { return candidates.Query{User: u, Time: t} }
	imps := []Impression{
		{q(0, 10*day), []Shown{
			{Item: 2, Position: 1, Propensity: 0.5, Clicked: true},
			{Item: 3, Position: 2, Propensity: 0.25},
			{Item: 9, Position: 3, Propensity: 1}, // unknown to the catalog
			{Item: 2, Position: 4, Propensity: 1}, // shown twice
			{Item: 5, Position: 5, Propensity: 1},
		}},
		{q(0, 11*day), []Shown{{Item: 4, Position: 1, Propensity: 0.5}}},
		{q(7, 11*day), []Shown{{Item: 0, Position: 1}}},  // no history
		{q(-1, 11*day), []Shown{{Item: 0, Position: 1}}}, // unknown user
	}
	if withC {
		// 3 shown again before it is taken: the later slate gets the credit.
		imps = append(imps, Impression{q(0, 10*day+6*3600), []Shown{{Item: 3, Position: 1, Propensity: 1}}})
	}
	return imps
}

func handEvents() []dataset.Event {
	return []dataset.Event{{User: 0, Item: 1, Time: 0}, {User: 0, Item: 3, Time: 10*day + 12*3600}, {User: 0, Item: 4, Time: 12 * day}}
}

func TestBuildImpressionsJoin(t *testing.T) {
	type req struct {
		items     []int32
		labels    []float32
		positions []float32
	}
	cases := []struct {
		name   string
		withC  bool
		window time.Duration
		want   []req // in time order
		stats  ImpressionStats
	}{
		{"window 24h, shown again", true, 24 * time.Hour, []req{
			{[]int32{2, 3, 5}, []float32{1, 0, 0}, []float32{1, 2, 5}},
			{[]int32{3}, []float32{1}, []float32{1}},
			// 4 is taken exactly 24 h after the slate: inside the window.
			{[]int32{4}, []float32{1}, []float32{1}},
		}, ImpressionStats{Shown: 5, UnknownItems: 1, Duplicates: 1, Clicked: 1, Consumed: 2}},
		{"window 24h, shown once", false, 24 * time.Hour, []req{
			{[]int32{2, 3, 5}, []float32{1, 1, 0}, []float32{1, 2, 5}},
			{[]int32{4}, []float32{1}, []float32{1}},
		}, ImpressionStats{Shown: 4, UnknownItems: 1, Duplicates: 1, Clicked: 1, Consumed: 2}},
		{"window just short", true, 24*time.Hour - time.Second, []req{
			{[]int32{2, 3, 5}, []float32{1, 0, 0}, []float32{1, 2, 5}},
			{[]int32{3}, []float32{1}, []float32{1}},
			{[]int32{4}, []float32{0}, []float32{1}},
		}, ImpressionStats{Shown: 5, UnknownItems: 1, Duplicates: 1, Clicked: 1, Consumed: 1}},
		{"clicks only", false, 0, []req{
			{[]int32{2, 3, 5}, []float32{1, 0, 0}, []float32{1, 2, 5}},
			{[]int32{4}, []float32{0}, []float32{1}},
		}, ImpressionStats{Shown: 4, UnknownItems: 1, Duplicates: 1, Clicked: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, err := BuildImpressions(context.Background(), handImpressions(c.withC), handEvents(), handStages(),
				ImpressionOptions{NumItems: 6, Window: c.window, Position: true, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := set.Validate(); err != nil {
				t.Fatal(err)
			}
			if want := append(handStages().FeatureNames(), PositionFeature); !slices.Equal(set.FeatureNames, want) {
				t.Fatalf("features %v, want %v", set.FeatureNames, want)
			}
			if len(set.Requests) != len(c.want) {
				t.Fatalf("%d requests, want %d", len(set.Requests), len(c.want))
			}
			nf := set.NumFeatures()
			for k, w := range c.want {
				r := set.Requests[k]
				var pos []float32
				for i := range r.Items {
					pos = append(pos, r.Row(i, nf)[nf-1])
				}
				if !slices.Equal(r.Items, w.items) || !slices.Equal(r.Labels, w.labels) || !slices.Equal(pos, w.positions) {
					t.Errorf("request %d: items %v labels %v positions %v, want %v %v %v", k, r.Items, r.Labels, pos, w.items, w.labels, w.positions)
				}
				if r.Proposed != len(r.Items) || r.Weights != nil || r.Target != -1 {
					t.Errorf("request %d: proposed %d of %d, weights %v, target %d", k, r.Proposed, len(r.Items), r.Weights, r.Target)
				}
				// The history is the user's events before the slate: item 1 alone for slates up to day 10 + 12 h.
				if r.Time < 10*day+12*3600 && !slices.Equal(r.History, []int32{1}) {
					t.Errorf("request %d: history %v", k, r.History)
				}
			}
			if set.Impressions != c.stats {
				t.Errorf("stats %+v, want %+v", set.Impressions, c.stats)
			}
			if set.Stats.NoHistory != 2 || set.Stats.Events != len(handImpressions(c.withC)) {
				t.Errorf("build stats %+v", set.Stats)
			}
		})
	}
}

// Inverse propensities, floored at MinPropensity, averaged to 1 over the shown rows; a slate
// without the position option keeps the stages' columns alone.
func TestBuildImpressionsWeights(t *testing.T) {
	imps := handImpressions(true)
	imps[1].Shown[0].Propensity = 0.001 // floored to MinPropensity
	set, err := BuildImpressions(context.Background(), imps, handEvents(), handStages(), ImpressionOptions{NumItems: 6, Window: 24 * time.Hour, PropensityWeights: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(set.FeatureNames, handStages().FeatureNames()) {
		t.Errorf("features %v without the position option", set.FeatureNames)
	}
	raw := [][]float64{{2, 4, 1}, {1}, {100}}
	var sum float64
	for _, ws := range raw {
		for _, w := range ws {
			sum += w
		}
	}
	for k, r := range set.Requests {
		for i, w := range r.Weights {
			if want := raw[k][i] * 5 / sum; math.Abs(float64(w)-want) > 1e-5 {
				t.Errorf("request %d item %d: weight %v, want %v", k, r.Items[i], w, want)
			}
		}
	}
}

// Sampled negatives: ⌊share·shown⌋ per slate, never shown or in the history, labelled 0, at the
// serving position, after the shown items.
func TestBuildImpressionsSampledNegatives(t *testing.T) {
	const items, shown = 60, 10
	st := &listStages{k: 20}
	for i := range items {
		st.ranking = append(st.ranking, int32(i))
	}
	var imps []Impression
	var events []dataset.Event
	for u := range int32(40) {
		events = append(events, dataset.Event{User: u, Item: u % items, Time: 0})
		imp := Impression{Query: candidates.Query{User: u, Time: day}}
		for p := range shown {
			imp.Shown = append(imp.Shown, Shown{Item: (u + 1 + int32(p)*3) % items, Position: p + 1, Clicked: p == 0})
		}
		imps = append(imps, imp)
	}
	for _, share := range []float64{0, 0.2, 0.5} {
		set, err := BuildImpressions(context.Background(), imps, events, st, ImpressionOptions{NumItems: items, RandomNegatives: share, Position: true, Seed: 5, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		nf := set.NumFeatures()
		negs := 0
		for k, r := range set.Requests {
			if r.Proposed != shown {
				t.Fatalf("share %v: request %d: %d shown, want %d", share, k, r.Proposed, shown)
			}
			for i, it := range r.Items[r.Proposed:] {
				i += r.Proposed
				if slices.Contains(r.Items[:r.Proposed], it) || slices.Contains(r.History, it) {
					t.Errorf("share %v: negative %d was shown or is in the history", share, it)
				}
				if r.Labels[i] != 0 || r.Row(i, nf)[nf-1] != ServePosition {
					t.Errorf("share %v: negative %d: label %v, position %v", share, it, r.Labels[i], r.Row(i, nf)[nf-1])
				}
				negs++
			}
			if r.Labels[0] != 1 {
				t.Errorf("share %v: the clicked item lost its label", share)
			}
		}
		if want := int(share*shown) * len(imps); negs != want {
			t.Errorf("share %v: %d sampled negatives, want %d", share, negs, want)
		}
		one, err := BuildImpressions(context.Background(), imps, events, st, ImpressionOptions{NumItems: items, RandomNegatives: share, Position: true, Seed: 5, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		for k := range one.Requests {
			if !slices.Equal(one.Requests[k].Items, set.Requests[k].Items) {
				t.Fatalf("share %v: request %d draws %v with one worker, %v with three", share, k, one.Requests[k].Items, set.Requests[k].Items)
			}
		}
	}
}

func TestBuildImpressionsErrors(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		opt  ImpressionOptions
		st   *listStages
	}{
		{"no catalog", ImpressionOptions{}, handStages()},
		{"negative window", ImpressionOptions{NumItems: 6, Window: -time.Second}, handStages()},
		{"share out of range", ImpressionOptions{NumItems: 6, RandomNegatives: -1}, handStages()},
		{"bad rows", ImpressionOptions{NumItems: 6}, &listStages{ranking: []int32{0, 1, 2, 3, 4, 5}, k: 3, badRows: true}},
	} {
		if _, err := BuildImpressions(ctx, handImpressions(true), handEvents(), c.st, c.opt); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := BuildImpressions(cancelled, handImpressions(true), handEvents(), handStages(), ImpressionOptions{NumItems: 6}); err == nil {
		t.Error("a cancelled context built a set")
	}
}
