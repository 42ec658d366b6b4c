package pipeline

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// featureOnlyPipeline is examples/ablation-als-instead.yaml at test size: iALS proposes, explicit
// ALS is declared but proposes nothing, and the ranker reads ALS's score instead of iALS's.
const featureOnlyPipeline = `name: feature-only
models:
  ials:
    type: ials
    params: {factors: 16, alpha: 2, reg: 3, iterations: 6, solver: cg}
  als:
    type: als
    params: {factors: 8, reg: 0.1, iterations: 5}
  pop:
    type: popularity
retrieve:
  sources:
    - {model: ials, k: 100}
    - {model: pop, k: 20}
features: {}
rankers:
  - name: lightgbm
    type: lightgbm
    params: {trees: 20, min_data_in_leaf: 20}
    drop_features: [score_ials, rank_ials, pmi_ials, srcscore_ials, srcrank_ials]
ranking_data: {max_requests: 400, negatives: 30}
final: {k: 20}
`

// A model that is no retrieval source is still a ranking feature (the issue 13, 3c ablations
// rest on it): its score column is the model's own Score of each candidate, and drop_features
// takes the other model's columns away from the ranker only.
func TestModelOutsideRetrievalIsARankerFeature(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a pipeline with a ranker")
	}
	ds := world(t)
	if !ds.HasValues {
		t.Fatal("the test world has no ratings: explicit ALS cannot train")
	}
	cfg, err := ParseConfig("feature-only.yaml", []byte(featureOnlyPipeline))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := Train(context.Background(), cfg, ds, dir, Options{Progress: progress.Options{Disabled: true}, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	p, err := Open(cfg, dir, ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"score_als", "rank_als", "pmi_als", "score_ials", "src_ials"} {
		if !slices.Contains(p.FeatureNames(), n) {
			t.Errorf("the feature stage lacks %s: %v", n, p.FeatureNames())
		}
	}
	if slices.Contains(p.FeatureNames(), "src_als") {
		t.Errorf("als proposes nothing, yet there is a src_als column")
	}
	var read []string
	for _, c := range p.rankers[0].cols {
		read = append(read, p.wide[c])
	}
	for _, n := range []string{"score_als", "rank_als", "pmi_als", "src_ials"} {
		if !slices.Contains(read, n) {
			t.Errorf("the ranker does not read %s: %v", n, read)
		}
	}
	for _, n := range []string{"score_ials", "rank_ials", "pmi_ials", "srcscore_ials", "srcrank_ials"} {
		if slices.Contains(read, n) {
			t.Errorf("the ranker reads the dropped %s", n)
		}
	}

	// A user of the test window with a rated history: every final item's score_als is what the
	// bundle's ALS model scores it, to the bit.
	split := dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)
	var q candidates.Query
	for _, e := range split.Train {
		if e.User == split.Test[0].User {
			q.History = append(q.History, e.Item)
			q.HistoryValues = append(q.HistoryValues, e.Value)
		}
	}
	q.User, q.Time = split.Test[0].User, split.Test[0].Time
	if len(q.History) == 0 {
		t.Fatal("the test window's first user has no training history")
	}
	res, err := p.RecommendDense(context.Background(), Query{Query: q, Explain: true})
	if err != nil || res.Fallback || res.Degraded || res.Explain == nil || len(res.Explain.Items) == 0 {
		t.Fatalf("recommend: %v, %+v", err, res)
	}
	m, err := kinds["als"].load(filepath.Join(dir, "als.als"))
	if err != nil {
		t.Fatal(err)
	}
	als, ok := m.(candidates.Scorer)
	if !ok {
		t.Fatalf("the bundle's als model is %T, no candidates.Scorer", m)
	}
	col := slices.Index(p.FeatureNames(), "score_als")
	items := make([]int32, len(res.Explain.Items))
	for i, ie := range res.Explain.Items {
		items[i] = ie.Item
	}
	want := make([]float32, len(items))
	if err := als.Score(context.Background(), q, items, want); err != nil {
		t.Fatal(err)
	}
	for i, ie := range res.Explain.Items {
		got := ie.Features[col]
		if math.IsNaN(float64(got)) || got != want[i] {
			t.Errorf("item %d: score_als %v, the model scores %v", ie.Item, got, want[i])
		}
	}
}
