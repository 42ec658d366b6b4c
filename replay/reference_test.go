package replay

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/cascade-rec/cascade/candidates/popularity"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// referencePopularity holds the exact popularity values of shared/datasets/README.md, computed by
// an independent implementation of replay-v1. Matching them to 1e-9 proves the evaluator.
var referencePopularity = map[string]struct {
	counts  [5]int // train_events, test_steps, no_history_steps, warm_steps, cold_steps
	metrics map[string]float64
}{
	"ml-100k": {[5]int{90000, 10000, 76, 2886, 7038}, map[string]float64{
		"hr@10": 0.06872228939943571, "ndcg@10": 0.03222286816734523, "mrr@10": 0.02141433625714158,
		"hr@20": 0.11164852881902458, "ndcg@20": 0.042986446537598984, "hr@50": 0.22118097541313986,
		"ndcg@50": 0.06449060684012767, "hr@100": 0.3542926239419589, "ndcg@100": 0.08600803739871853,
		"coverage@10": 0.05375687232742822, "popularity@10": 0.9922384634222536,
		"recall@100": 0.3542926239419589, "recall@200": 0.5248891575977428, "recall@500": 0.8050181378476421,
	}},
	"ml-latest-small": {[5]int{90752, 10084, 47, 1661, 8376}, map[string]float64{
		"hr@10": 0.0261034173557836, "ndcg@10": 0.01382609465550636, "mrr@10": 0.010082694032081299,
		"hr@20": 0.045332270598784495, "ndcg@20": 0.018631121841641327, "hr@50": 0.08986749028594201,
		"ndcg@50": 0.027386029760314776, "hr@100": 0.14715552455913122, "ndcg@100": 0.03665770641365287,
		"coverage@10": 0.009899836943862102, "popularity@10": 0.9976214900616119,
		"recall@100": 0.14715552455913122, "recall@200": 0.23263923483112484, "recall@500": 0.37481319119258744,
	}},
}

func TestPopularityMatchesReference(t *testing.T) {
	for name, ref := range referencePopularity {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "shared", "datasets", name)
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("shared data set %s is absent: skipping (tests never need it)", dir)
			}
			ds, err := dataset.Load(dir, dataset.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			split := dataset.TemporalSplit(ds.Events, 0.9)
			pop := popularity.Train(split.Train, split.TrainItems, ds.Items.IDs()[:split.TrainItems])
			rep, err := Run(context.Background(), split, Source("popularity", pop, 500), Options{ItemIDs: ds.Items.IDs(), Progress: progress.Options{Disabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			got := [5]int{rep.TrainEvents, rep.TestSteps, rep.NoHistorySteps, rep.WarmSteps, rep.ColdSteps}
			if got != ref.counts {
				t.Fatalf("counts %v, want %v", got, ref.counts)
			}
			for k, want := range ref.metrics {
				v, ok := rep.Metrics[k]
				if !ok {
					v = rep.Stages["popularity"][k]
				}
				if math.Abs(v-want) > 1e-9 {
					t.Errorf("%s = %.17g, reference %.17g", k, v, want)
				}
			}
		})
	}
}
