package twotower

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/params"
)

// favoured reports the items every logged click of slates() goes to: one in ten of the catalog,
// with nothing special about them in the world's events.
func favoured(it int32) bool { return it%10 == 5 }

// slates logs n slates of k items on w's users, at the times of random events (the history is
// what came before): two favoured items and k−2 others, uniformly drawn, and only the favoured
// ones clicked. A model that learns from these clicks ranks the favoured items high for
// everyone; one that learns from the events has no reason to.
func (w *world) slates(seed uint64, n, k int) []Impression {
	rng := rand.New(rand.NewPCG(seed, 0x736c))
	var fav, other []int32
	for i := range int32(w.numItems) {
		if favoured(i) {
			fav = append(fav, i)
		} else {
			other = append(other, i)
		}
	}
	out := make([]Impression, n)
	for j := range out {
		e := w.events[rng.IntN(len(w.events))]
		imp := Impression{User: e.User, Time: e.Time}
		for _, i := range rng.Perm(len(fav))[:2] {
			imp.Shown = append(imp.Shown, fav[i])
		}
		for _, i := range rng.Perm(len(other))[:k-2] {
			imp.Shown = append(imp.Shown, other[i])
		}
		rng.Shuffle(len(imp.Shown), func(a, b int) { imp.Shown[a], imp.Shown[b] = imp.Shown[b], imp.Shown[a] })
		for _, it := range imp.Shown {
			imp.Clicked = append(imp.Clicked, favoured(it))
		}
		out[j] = imp
	}
	return out
}

// TestImpressionSamples checks the examples built from slates: one per click with a known
// history, the history ending before the slate, the unclicked shown items as own negatives.
func TestImpressionSamples(t *testing.T) {
	w := newWorld(3, 30, 60, 4, 5, 12)
	imps := w.slates(1, 50, 8)
	// A slate of an unknown user, one with an item outside the catalog and a duplicate, one
	// before any event of its user.
	imps = append(imps,
		Impression{User: 99, Time: w.events[5].Time, Shown: []int32{5, 6}, Clicked: []bool{true, false}},
		Impression{User: w.events[40].User, Time: w.events[40].Time + 1, Shown: []int32{15, 1000, 7, 7, 15}, Clicked: []bool{true, false, false, false, true}},
		Impression{User: w.events[0].User, Time: w.events[0].Time, Shown: []int32{25, 3}, Clicked: []bool{true, false}},
	)
	s := newSeqs(w.events, w.numUsers)
	got, negs := impressionSamples(s, imps, w.numItems, 0)
	var want int
	for _, imp := range imps[:50] {
		for j := range imp.Shown {
			if imp.Clicked[j] && len(s.history(sample{user: imp.User, idx: idxAt(s, imp.User, imp.Time)})) > 0 {
				want++
			}
		}
	}
	want++ // the slate with the duplicate: item 15 once
	if len(got) != want {
		t.Fatalf("%d examples, want %d (one per click with a history)", len(got), want)
	}
	last := got[len(got)-1]
	if last.item != 15 || !slices.Equal(negs[last.negLo:last.negHi], []int32{7}) {
		t.Errorf("duplicate slate: item %d, negatives %v; want 15, [7]", last.item, negs[last.negLo:last.negHi])
	}
	for _, sm := range got {
		if !favoured(sm.item) && sm.item != 15 {
			t.Fatalf("example of unclicked item %d", sm.item)
		}
		for _, it := range negs[sm.negLo:sm.negHi] {
			if favoured(it) && sm.item != 15 {
				t.Fatalf("clicked item %d among the negatives of %d", it, sm.item)
			}
		}
	}
	// Every example's history ends strictly before its slate.
	for j, imp := range imps[:50] {
		idx := idxAt(s, imp.User, imp.Time)
		if idx > s.off[imp.User] && s.times[idx-1] >= imp.Time {
			t.Fatalf("slate %d: history reaches its time", j)
		}
	}
	// A bound on the slates' time drops the later ones.
	bounded, _ := impressionSamples(s, imps, w.numItems, imps[0].Time)
	if len(bounded) >= len(got) {
		t.Errorf("before = %d kept %d of %d examples", imps[0].Time, len(bounded), len(got))
	}
}

func idxAt(s *seqs, u int32, tm int64) int32 {
	i := s.off[u]
	for i < s.off[u+1] && s.times[i] < tm {
		i++
	}
	return i
}

// favouredRank is the mean rank (0 = top) of the favoured items in m's scores of the whole
// catalog, over the queries of the world's first users.
func favouredRank(t *testing.T, m *Model, w *world) float64 {
	t.Helper()
	items := make([]int32, w.numItems)
	for i := range items {
		items[i] = int32(i)
	}
	scores := make([]float32, w.numItems)
	var sum, n float64
	for u := range int32(20) {
		var hist []int32
		for _, e := range w.events {
			if e.User == u {
				hist = append(hist, e.Item)
			}
		}
		if err := m.Score(context.Background(), candidates.Query{User: u, History: hist}, items, scores); err != nil {
			t.Fatal(err)
		}
		for i, s := range scores {
			if favoured(int32(i)) {
				rank := 0
				for _, x := range scores {
					if x > s {
						rank++
					}
				}
				sum += float64(rank)
				n++
			}
		}
	}
	return sum / n
}

// TestTrainFromImpressions trains on slates whose clicks all go to the favoured items: every
// impressions mode must rank them near the top, and the events model (trained on the same data,
// impressions ignored) must not — so a mode that silently learnt from the events fails.
func TestTrainFromImpressions(t *testing.T) {
	w := newWorld(5, 120, 80, 4, 8, 20)
	imps := w.slates(2, 600, 10)
	data := w.trainData(w.events)
	data.Impressions = imps
	clicks := 0
	for _, imp := range imps {
		for _, c := range imp.Clicked {
			if c {
				clicks++
			}
		}
	}
	cases := []struct {
		examples, negatives string
		maxRank             float64 // mean rank of the 8 favoured items among 80
	}{
		{ExamplesImpressions, NegativesShown, 15},
		{ExamplesImpressions, NegativesInBatch, 15},
		{ExamplesImpressions, NegativesMixed, 15},
	}
	p := smallParams()
	p.Epochs = 6
	evm, evst, err := Train(context.Background(), data, p, quietOptions(1))
	if err != nil {
		t.Fatal(err)
	}
	evRank := favouredRank(t, evm, w)
	if evRank < 20 {
		t.Fatalf("events model: favoured items' mean rank %.1f; the world should give them no lead", evRank)
	}
	for _, tc := range cases {
		t.Run(tc.negatives, func(t *testing.T) {
			q := p
			q.Examples, q.Negatives, q.MixedNegatives = tc.examples, tc.negatives, 32
			m, st, err := Train(context.Background(), data, q, quietOptions(1))
			if err != nil {
				t.Fatal(err)
			}
			if st.Samples > clicks || st.Samples < clicks*8/10 || st.Samples == evst.Samples {
				t.Errorf("%d examples; the slates hold %d clicks (events model: %d examples)", st.Samples, clicks, evst.Samples)
			}
			r := favouredRank(t, m, w)
			t.Logf("favoured items' mean rank %.1f (events model %.1f); %d examples", r, evRank, st.Samples)
			if r > tc.maxRank {
				t.Errorf("favoured items' mean rank %.1f, want ≤ %.0f (events model: %.1f)", r, tc.maxRank, evRank)
			}
		})
	}
}

// TestDefaultIgnoresImpressions pins the default: examples events, and impressions in the data
// change nothing, to the artifact's bytes; the default's parameters serialise as before (no
// examples key), so its artifacts and cache keys are those of the code before the option.
func TestDefaultIgnoresImpressions(t *testing.T) {
	w := newWorld(7, 40, 50, 4, 5, 12)
	p := smallParams()
	p.Epochs = 2
	dir := t.TempDir()
	sums := make([]string, 3)
	for k := range sums {
		data := w.trainData(w.events)
		q := p
		switch k {
		case 1:
			data.Impressions = w.slates(1, 100, 8)
		case 2:
			q.Examples = ExamplesEvents
			data.Impressions = w.slates(1, 100, 8)
		}
		m, _, err := Train(context.Background(), data, q, quietOptions(1))
		if err != nil {
			t.Fatal(err)
		}
		if k == 2 {
			continue // "events" spelt out is the same model, but its params record the key
		}
		if sums[k], err = m.Save(filepath.Join(dir, "m"+string(rune('0'+k)))); err != nil {
			t.Fatal(err)
		}
	}
	if sums[0] != sums[1] {
		t.Errorf("impressions in the data changed the default model: %s vs %s", sums[0], sums[1])
	}
	b, err := json.Marshal(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Examples") {
		t.Errorf("default params serialise an Examples key: %s", b)
	}
}

// TestImpressionParamsErrors checks that bad modes are field errors naming the key.
func TestImpressionParamsErrors(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Params)
		field string
		msg   string
	}{
		{"unknown examples", func(p *Params) { p.Examples = "impresions" }, "examples", `"events" or "impressions"`},
		{"unknown negatives", func(p *Params) { p.Negatives = "random" }, "negatives", `"in_batch", "mixed" or "shown"`},
		{"shown without impressions", func(p *Params) { p.Negatives = NegativesShown }, "negatives", "with examples"},
		{"impressions with gramian", func(p *Params) {
			p.Examples, p.Loss, p.Correction = ExamplesImpressions, LossGramian, CorrectionNone
		}, "examples", "loss"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultParams()
			tc.edit(&p)
			err := p.Validate()
			var fe params.FieldError
			if !errors.As(err, &fe) || fe.Path != tc.field || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want a field error on %s mentioning %s", err, tc.field, tc.msg)
			}
		})
	}
	// Impressions asked for and none given.
	w := newWorld(1, 10, 20, 2, 4, 6)
	p := smallParams()
	p.Examples = ExamplesImpressions
	if _, _, err := Train(context.Background(), w.trainData(w.events), p, quietOptions(1)); err == nil || !strings.Contains(err.Error(), "no impressions") {
		t.Errorf("no impressions: error %v", err)
	}
}
