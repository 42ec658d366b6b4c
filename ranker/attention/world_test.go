package attention

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/candidates/popularity"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/synth"
)

// worldSets are ranking sets from a small synthetic world whose choices depend on the recent
// history: popularity proposes 50 candidates at every event of the last 30% of the log (the
// ranker cannot learn anything from the source's order but the popularity it already knows).
type worldSets struct {
	train, valid, test *ranker.Set
	numItems           int
}

var (
	worldOnce sync.Once
	worldData *worldSets
	worldErr  error
)

func syntheticSets(t *testing.T) *worldSets {
	t.Helper()
	worldOnce.Do(func() { worldData, worldErr = buildWorldSets() })
	if worldErr != nil {
		t.Fatal(worldErr)
	}
	return worldData
}

func buildWorldSets() (*worldSets, error) {
	ctx := context.Background()
	cfg := synth.Small(3)
	cfg.Impressions = 0
	w, err := synth.Generate(ctx, cfg)
	if err != nil {
		return nil, err
	}
	events := make([]dataset.Event, len(w.Events))
	for i, e := range w.Events {
		events[i] = dataset.Event{User: e.User, Item: e.Item, Time: e.Time, Value: float32(e.Rating)}
	}
	n := len(events)
	cut1, cut2 := n*7/10, n*9/10
	pop := popularity.Train(events[:cut1], len(w.Items), nil)
	st := sourceStages{source: pop, k: 50, logPrior: pop.LogPrior}
	window := func(from, to int) dataset.Split {
		return dataset.Split{Train: events[:from], Test: events[from:to], TrainItems: len(w.Items)}
	}
	learn, err := ranker.Build(ctx, window(cut1, cut2), st, ranker.BuildOptions{})
	if err != nil {
		return nil, err
	}
	test, err := ranker.Build(ctx, window(cut2, n), st, ranker.BuildOptions{})
	if err != nil {
		return nil, err
	}
	train, valid := learn.SplitTime(0.8)
	return &worldSets{train: train, valid: valid, test: test, numItems: len(w.Items)}, nil
}

func smallParams() Params {
	p := DefaultParams()
	p.Dim, p.AttentionHidden, p.Hidden, p.HistoryLen = 16, 8, []int{32}, 20
	p.Epochs, p.Patience, p.LearningRate = 10, 2, 3e-3
	return p
}

func TestBeatsCandidateOrderOnSyntheticWorld(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("trains models for seconds (minutes under the race detector, which TestTrainDeterministic and TestScoreConcurrent cover)")
	}
	ctx := context.Background()
	ws := syntheticSets(t)
	base, err := ranker.Evaluate(ctx, ws.test, 10, ranker.SourceOrder)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sets: train %d requests, valid %d, test %d (%+v)", len(ws.train.Requests), len(ws.valid.Requests), len(ws.test.Requests), ws.test.Stats)
	t.Logf("candidate order: %v", base)
	results := map[string]float64{}
	for _, att := range []string{AttentionDIN, AttentionMean} {
		p := smallParams()
		p.Attention = att
		m, st, err := Train(ctx, ws.train, ws.valid, ws.numItems, p, TrainOptions{Progress: progress.Options{Disabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		met, err := ranker.Evaluate(ctx, ws.test, 10, m.ScoreRequest)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %v (epochs %d, best %d, loss %.4v, valid %.4v, %.0f req/s)", att, met, st.Epochs, st.BestEpoch, st.Loss, st.ValidNDCG, st.RequestsPerSecond)
		results[att] = met.NDCG
	}
	// Deterministic for the seed; the margins leave room for the floating-point changes of a
	// different GEMM kernel.
	if results[AttentionDIN] < 1.15*base.NDCG {
		t.Errorf("din ndcg@10 %.4f, want ≥ 1.15 × the candidate order's %.4f", results[AttentionDIN], base.NDCG)
	}
	if m := results[AttentionMean]; math.IsNaN(m) || m < 1.1*base.NDCG {
		t.Errorf("mean ndcg@10 %.4f, want ≥ 1.1 × the candidate order's %.4f", m, base.NDCG)
	}
}
