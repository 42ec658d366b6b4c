package twotower

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/params"
)

// hitRate replays the test events: for each one with a history, is its item among the top k of
// rec (history = the user's earlier train and test events, seen items excluded)?
func hitRate(t *testing.T, w *world, sp dataset.Split, k int, rec func(q candidates.Query, k int) []candidates.Candidate) float64 {
	t.Helper()
	hist := map[int32][]int32{}
	for _, e := range sp.Train {
		hist[e.User] = append(hist[e.User], e.Item)
	}
	hits, steps := 0, 0
	for _, e := range sp.Test {
		h := hist[e.User]
		if len(h) > 0 {
			steps++
			for _, c := range rec(candidates.Query{User: e.User, History: h, Time: e.Time}, k) {
				if c.Item == e.Item {
					hits++
					break
				}
			}
		}
		hist[e.User] = append(h, e.Item)
	}
	return float64(hits) / float64(steps)
}

// popularityRec ranks by train count, seen items excluded.
func popularityRec(events []dataset.Event, numItems int) func(q candidates.Query, k int) []candidates.Candidate {
	counts := make([]float32, numItems)
	for _, e := range events {
		counts[e.Item]++
	}
	return func(q candidates.Query, k int) []candidates.Candidate {
		seen := map[int32]bool{}
		for _, it := range q.History {
			seen[it] = true
		}
		return candidates.TopK(counts, k, func(id int32) bool { return seen[id] }, nil)
	}
}

func modelRec(t *testing.T, m *Model) func(q candidates.Query, k int) []candidates.Candidate {
	return func(q candidates.Query, k int) []candidates.Candidate {
		out, err := m.Recommend(context.Background(), q, k, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func TestBeatsPopularity(t *testing.T) {
	w := newWorld(7, 300, 200, 10, 20, 40)
	sp := dataset.TemporalSplit(w.events, 0.9)
	p := smallParams()
	p.ValidationFraction = 0.1
	p.Epochs = 8
	m, st, err := Train(context.Background(), w.trainData(sp.Train), p, quietOptions(2))
	if err != nil {
		t.Fatal(err)
	}
	pop := hitRate(t, w, sp, 10, popularityRec(sp.Train, w.numItems))
	tt := hitRate(t, w, sp, 10, modelRec(t, m))
	t.Logf("hr@10: two-tower %.3f, popularity %.3f; %d epochs (best %d, val recall %v), %.0f ex/s", tt, pop, st.Epochs, st.BestEpoch, st.ValidationRecall, st.ExamplesPerSec)
	if tt < 2*pop || tt < 0.2 {
		t.Errorf("two-tower hr@10 %.3f does not beat popularity %.3f clearly", tt, pop)
	}
}

func trainSmall(t *testing.T, w *world, edit func(*Params), workers int) *Model {
	t.Helper()
	p := smallParams()
	p.Epochs = 2
	if edit != nil {
		edit(&p)
	}
	m, _, err := Train(context.Background(), w.trainData(w.events), p, quietOptions(workers))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDeterministic(t *testing.T) {
	w := newWorld(11, 60, 80, 4, 10, 20)
	for _, workers := range []int{1, 2, 3} {
		edit := func(p *Params) { p.Negatives, p.MixedNegatives = NegativesMixed, 7 }
		a := trainSmall(t, w, edit, workers).ItemEmbeddings()
		b := trainSmall(t, w, edit, workers).ItemEmbeddings()
		if !slices.Equal(a, b) {
			t.Errorf("workers=%d: two runs with the same seed differ", workers)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	w := newWorld(12, 60, 80, 4, 10, 20)
	for _, beta := range []float64{0, 0.7} {
		m := trainSmall(t, w, func(p *Params) { p.PriorBeta = beta }, 2)
		path := filepath.Join(t.TempDir(), "tt.model")
		sum, err := m.Save(path)
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(path); sum != fmt.Sprintf("%x", sha256.Sum256(data)) {
			t.Errorf("Save returned checksum %s, not the file's", sum)
		}
		l, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(m.ItemEmbeddings(), l.ItemEmbeddings()) {
			t.Fatal("item embeddings differ after load")
		}
		ctx := context.Background()
		items := []int32{0, 5, 79, 80, -1}
		for _, q := range []candidates.Query{
			{User: 3, History: []int32{1, 2, 3, 40}, Time: 1_700_000_000},
			{User: -1, History: []int32{70, 300, 12}, Time: 1_600_000_123},
			{User: 999, Time: 5},
		} {
			a, err := m.Recommend(ctx, q, 20, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := l.Recommend(ctx, q, 20, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a, b) {
				t.Errorf("beta %v: Recommend differs after load:\n%v\n%v", beta, a, b)
			}
			sa, sb := make([]float32, len(items)), make([]float32, len(items))
			if err := m.Score(ctx, q, items, sa); err != nil {
				t.Fatal(err)
			}
			if err := l.Score(ctx, q, items, sb); err != nil {
				t.Fatal(err)
			}
			for i := range sa {
				if sa[i] != sb[i] && !(math.IsNaN(float64(sa[i])) && math.IsNaN(float64(sb[i]))) {
					t.Errorf("beta %v: Score(%d) %v after load, %v before", beta, items[i], sb[i], sa[i])
				}
			}
			if !math.IsNaN(float64(sa[3])) || !math.IsNaN(float64(sa[4])) {
				t.Errorf("items outside the catalog scored %v, %v; want NaN", sa[3], sa[4])
			}
		}
		data, _ := os.ReadFile(path)
		data[len(data)/2] ^= 0xff
		os.WriteFile(path, data, 0o644)
		if _, err := Load(path); !errors.Is(err, artifact.ErrCorrupt) {
			t.Errorf("damaged file: %v, want ErrCorrupt", err)
		}
	}
}

// TestRecommendMatchesScore checks that the index search (with the prior dimension appended)
// returns exactly the model's scores, in exact order, with seen and skipped items left out.
func TestRecommendMatchesScore(t *testing.T) {
	w := newWorld(13, 60, 80, 4, 10, 20)
	m := trainSmall(t, w, func(p *Params) { p.PriorBeta = 1.5 }, 2)
	ctx := context.Background()
	q := candidates.Query{User: 4, History: []int32{3, 9, 27}, Time: 1_650_000_000}
	all := make([]int32, m.NumItems())
	for i := range all {
		all[i] = int32(i)
	}
	scores := make([]float32, len(all))
	if err := m.Score(ctx, q, all, scores); err != nil {
		t.Fatal(err)
	}
	skip := func(id int32) bool { return id%5 == 0 }
	seen := map[int32]bool{3: true, 9: true, 27: true}
	want := candidates.TopK(scores, 30, func(id int32) bool { return seen[id] || skip(id) }, nil)
	got, err := m.Recommend(ctx, q, 30, skip, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d candidates, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Item != want[i].Item || math.Abs(float64(got[i].Score-want[i].Score)) > 1e-4*math.Abs(float64(want[i].Score))+1e-5 {
			t.Fatalf("rank %d: %v, want %v", i, got[i], want[i])
		}
	}
}

func TestRecommendNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	w := newWorld(14, 60, 80, 4, 10, 20)
	m := trainSmall(t, w, nil, 1)
	ctx := context.Background()
	q := candidates.Query{User: 2, History: []int32{1, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41}, Time: 1_650_000_000}
	dst := make([]candidates.Candidate, 0, 50)
	skip := func(id int32) bool { return id == 4 }
	if _, err := m.Recommend(ctx, q, 50, skip, dst); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		dst, _ = m.Recommend(ctx, q, 50, skip, dst)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Recommend", allocs)
	}
}

func TestTrainCancelled(t *testing.T) {
	w := newWorld(15, 60, 80, 4, 10, 20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Train(ctx, w.trainData(w.events), smallParams(), quietOptions(1)); err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for field, edit := range map[string]func(*Params){
		"dim":             func(p *Params) { p.Dim = 0 },
		"heads":           func(p *Params) { p.Heads = 3 },
		"temperature":     func(p *Params) { p.Temperature = 0 },
		"loss":            func(p *Params) { p.Loss = "hinge" },
		"correction":      func(p *Params) { p.Loss = LossGramian },
		"negatives":       func(p *Params) { p.Negatives = "hard" },
		"mixed_negatives": func(p *Params) { p.Negatives, p.MixedNegatives = NegativesMixed, 0 },
		"logq_estimator":  func(p *Params) { p.LogQEstimator = "exact" },
		"gramian_items":   func(p *Params) { p.Loss, p.Correction, p.GramianItems = LossGramian, CorrectionNone, "all" },
		"batch_size":      func(p *Params) { p.BatchSize = 1 },
		"hidden[1]":       func(p *Params) { p.Hidden = []int{8, 0} },
		"prior_beta":      func(p *Params) { p.PriorBeta = math.Inf(1) },
		"epoch_examples":  func(p *Params) { p.EpochExamples = p.BatchSize - 1 },
	} {
		p := DefaultParams()
		edit(&p)
		var fe params.FieldError
		if err := p.Validate(); !errors.As(err, &fe) || fe.Path != field {
			t.Errorf("%s: got %v", field, err)
		}
	}
}

func TestRefitAfterEarlyStopping(t *testing.T) {
	w := newWorld(16, 80, 60, 4, 10, 20)
	p := smallParams()
	p.ValidationFraction, p.Refit, p.Epochs, p.Patience = 0.2, true, 3, 1
	m, st, err := Train(context.Background(), w.trainData(w.events), p, quietOptions(2))
	if err != nil {
		t.Fatal(err)
	}
	if st.BestEpoch < 1 || st.Epochs != st.BestEpoch || len(st.ValidationRecall) == 0 {
		t.Errorf("refit stats: best epoch %d, epochs %d, recall %v", st.BestEpoch, st.Epochs, st.ValidationRecall)
	}
	if got := trainSamples(newSeqs(w.events, w.numUsers), w.numItems, nil); st.Samples != len(got) {
		t.Errorf("refit trained on %d samples, want all %d", st.Samples, len(got))
	}
	if m.NumItems() != w.numItems {
		t.Errorf("NumItems %d", m.NumItems())
	}
}
