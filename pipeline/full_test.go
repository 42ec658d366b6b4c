package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/replay"
)

// testFirstStage is the test pipelines' candidate stage: iALS and popularity, then features.
const testFirstStage = `models:
  ials:
    type: ials
    params: {factors: 16, alpha: 2, reg: 3, iterations: 8, solver: cg}
  pop:
    type: popularity
retrieve:
  sources:
    - {model: ials, k: 150}
    - {model: pop, k: 30}
features: {}
ranking_data: {max_requests: 1500, negatives: 50}
final: {k: 50}
`

// fullPipeline is the design at test size: two sources → features → attention → LightGBM.
const fullPipeline = "name: full-test\n" + testFirstStage + `rankers:
  - {name: attention, type: attention, keep: 100, params: {epochs: 3, dim: 16}}
  - {name: lightgbm, type: lightgbm, params: {trees: 40, min_data_in_leaf: 20}}
`

func TestFullPipelineFunnel(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a full pipeline")
	}
	ds := world(t)
	cfg, err := ParseConfig("full.yaml", []byte(fullPipeline))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	man, err := Train(context.Background(), cfg, ds, dir, Options{Progress: progress.Options{Disabled: true}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	split := dataset.TemporalSplit(ds.Events, 0.9)
	valid := dataset.TemporalSplit(split.Train, 0.9)
	// No ranker's data reaches the test window: labels and requests come from the validation
	// window, and every model's data ends before the cut.
	for name, e := range man.Rankers {
		if e.DataSpan.To >= split.Cut || e.DataSpan.From < valid.Cut {
			t.Errorf("ranker %s trained on [%d, %d], outside the validation window [%d, %d)", name, e.DataSpan.From, e.DataSpan.To, valid.Cut, split.Cut)
		}
	}
	for name, e := range man.Models {
		if e.DataSpan.To >= split.Cut {
			t.Errorf("model %s saw an event at %d ≥ cut %d", name, e.DataSpan.To, split.Cut)
		}
	}
	if man.Features == nil || man.Features.DataSpan.To >= split.Cut || len(man.Features.Schema) < 10 {
		t.Fatalf("features entry %+v", man.Features)
	}
	if man.RankingData == nil || man.RankingData.WithPositive == 0 {
		t.Fatalf("ranking data %+v", man.RankingData)
	}

	p, err := Open(cfg, dir, ds)
	if err != nil {
		t.Fatal(err)
	}
	// The funnel is judged on the test window's first 4,000 events (both replays alike): enough
	// to separate the ranked order from the merged one at a third of the cost.
	head := split
	head.Test = split.Test[:min(len(split.Test), 4000)]
	rep, err := replay.Run(context.Background(), head, p.Replay(), replay.Options{ItemIDs: ds.Items.IDs(), Progress: progress.Options{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ials", "pop", "merged", "attention", "lightgbm"}
	if strings.Join(rep.StageOrder, ",") != strings.Join(want, ",") {
		t.Fatalf("stages %v, want %v", rep.StageOrder, want)
	}
	// The rankers must order the merged candidates better than the merge did: compare the
	// ranked list's hr@10 with the merged list's recall@... at the same depth through a replay of
	// the retrieve-only pipeline.
	retrieveOnly := *cfg
	retrieveOnly.Rankers, retrieveOnly.Features = nil, nil
	q, err := assemble(&retrieveOnly, p.models(), nil, nil, ds, split.TrainItems)
	if err != nil {
		t.Fatal(err)
	}
	base, err := replay.Run(context.Background(), head, q.Replay(), replay.Options{ItemIDs: ds.Items.IDs(), Progress: progress.Options{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ndcg@10 merged order %.4f, ranked %.4f; recall@100 merged %.4f", base.Metrics["ndcg@10"], rep.Metrics["ndcg@10"], rep.Stages["merged"]["recall@100"])
	if rep.Metrics["ndcg@10"] <= base.Metrics["ndcg@10"] {
		t.Fatalf("rankers did not improve on the merged order: %.4f ≤ %.4f", rep.Metrics["ndcg@10"], base.Metrics["ndcg@10"])
	}

	// Explain returns every stage's view of the final items.
	hist := []int32{ds.Events[0].Item, ds.Events[1].Item, ds.Events[2].Item}
	res, err := p.RecommendDense(context.Background(), Query{Query: candidates.Query{User: -1, History: hist, Time: split.Cut}, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Explain == nil || len(res.Explain.Items) != len(res.Items) || len(res.Explain.Items[0].Features) != len(p.FeatureNames()) {
		t.Fatalf("explain %+v", res.Explain)
	}
	if _, ok := res.Explain.Items[0].RankerScores["lightgbm"]; !ok {
		t.Fatalf("explain lacks ranker scores: %+v", res.Explain.Items[0])
	}
	for _, it := range res.Items {
		for _, h := range hist {
			if it.Item == h {
				t.Fatalf("seen item %d recommended", h)
			}
		}
	}

	// A ranker over its budget falls back to the previous order, and the result says so.
	cfg.Rankers[0].BudgetMS = 1e-6
	slow, err := Open(cfg, dir, ds)
	if err != nil {
		t.Fatal(err)
	}
	res, err = slow.RecommendDense(context.Background(), Query{Query: candidates.Query{User: -1, History: hist, Time: split.Cut}})
	if err != nil {
		t.Fatal(err)
	}
	var fell bool
	for _, s := range res.Stages {
		if s.Name == "attention" {
			fell = s.Fallback && s.Err != ""
		}
	}
	if !fell || len(res.Items) == 0 {
		t.Fatalf("attention over budget did not fall back: %+v", res.Stages)
	}
	// A request whose deadline has passed gets the degraded list; one its caller canceled, an error.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if res, err := p.RecommendDense(ctx, Query{Query: candidates.Query{User: -1, History: hist}}); err != nil || !res.Degraded || len(res.Items) == 0 {
		t.Fatalf("expired request: degraded %v with %d items, err %v", res.Degraded, len(res.Items), err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := p.RecommendDense(ctx, Query{Query: candidates.Query{User: -1, History: hist}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled request: err %v", err)
	}
}

// Validation chooses the ranking stack: LightGBM with every feature, LightGBM without the
// first-stage scores and co-occurrence (the features that know the user), or no ranker at all.
// The blinded ranker and the merged order must lose, and the bundle must serve the choice.
func TestStackSelection(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a pipeline per stack")
	}
	ds := world(t)
	// A validation window of 5% of the train events (4,500) keeps each stack's replay short.
	cfg, err := ParseConfig("select.yaml", []byte("name: select-test\nsplit: {train_fraction: 0.9, validation_fraction: 0.95}\n"+testFirstStage+`rankers:
  - name: lightgbm
    type: lightgbm
    optional: true
    params: {trees: 40, min_data_in_leaf: 20}
    drop_features: [[], [score, rank, pmi, srcscore, srcrank, src, cooc, cooc_max, cooc_cos, genre_share, genre_match_max, attrdiff]]
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	man, err := Train(context.Background(), cfg, ds, dir, Options{Progress: progress.Options{Disabled: true}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sel := man.StackSelection
	if sel == nil || len(sel.Trials) != 3 {
		t.Fatalf("stack selection %+v, want 3 trials", sel)
	}
	valid := dataset.TemporalSplit(dataset.TemporalSplit(ds.Events, 0.9).Train, 0.95)
	if sel.InnerCut >= valid.Cut || len(sel.Requests) != 1 || sel.Requests[0] == 0 {
		t.Fatalf("inner window starts at %d, not before the validation cut %d (%d requests)", sel.InnerCut, valid.Cut, sel.Requests)
	}
	score := map[string]float64{}
	for _, tr := range sel.Trials {
		score[tr.Stack] = tr.Metrics["ndcg@10"]
		t.Logf("%-40s validation ndcg@10 %.4f", tr.Stack, tr.Metrics["ndcg@10"])
	}
	all := "lightgbm(drop_features=[])"
	if sel.Chosen != all {
		t.Fatalf("chose %q, want %q", sel.Chosen, all)
	}
	for s, v := range score {
		if s != all && v >= score[all] {
			t.Errorf("%s scored %.4f ≥ the full-feature ranker's %.4f", s, v, score[all])
		}
	}
	if strings.Join(man.RankerStack, ",") != "lightgbm" || man.Rankers["lightgbm"] == nil {
		t.Fatalf("bundle stack %v, rankers %v", man.RankerStack, man.Rankers)
	}
	p, err := Open(cfg, dir, ds)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.RecommendDense(context.Background(), Query{Query: candidates.Query{User: -1, History: []int32{ds.Events[0].Item}}})
	if err != nil {
		t.Fatal(err)
	}
	if last := res.Stages[len(res.Stages)-1]; last.Name != "lightgbm" || last.Fallback {
		t.Fatalf("last stage %+v, want the chosen lightgbm", last)
	}
}

// Training is deterministic for a fixed seed, parallel parts included: two runs write the same
// artifacts, byte for byte.
func TestTrainDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a full pipeline twice")
	}
	ds := world(t)
	cfg, err := ParseConfig("full.yaml", []byte(fullPipeline))
	if err != nil {
		t.Fatal(err)
	}
	var mans [2]*Manifest
	for i := range mans {
		if mans[i], err = Train(context.Background(), cfg, ds, t.TempDir(), Options{Workers: 2, Progress: progress.Options{Disabled: true}, Logger: quiet}); err != nil {
			t.Fatal(err)
		}
	}
	for name, e := range mans[0].Models {
		if e.SHA256 != mans[1].Models[name].SHA256 {
			t.Errorf("model %s differs between two runs", name)
		}
	}
	for name, e := range mans[0].Rankers {
		if e.SHA256 != mans[1].Rankers[name].SHA256 {
			t.Errorf("ranker %s differs between two runs", name)
		}
	}
	if mans[0].Features.SHA256 != mans[1].Features.SHA256 {
		t.Error("feature statistics differ between two runs")
	}
}
