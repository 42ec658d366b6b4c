package pipeline

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cascade-rec/cascade/candidates/als"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/synth"
)

func TestHalvingRungs(t *testing.T) {
	for _, c := range []struct {
		n, full, eta  int
		keep, budgets []int
	}{
		{12, 15, 3, []int{12, 4, 1}, []int{1, 5, 15}}, // ials.yaml's grid
		{9, 9, 3, []int{9, 3, 1}, []int{1, 3, 9}},
		{3, 8, 3, []int{3, 1}, []int{2, 8}},
		{12, 2, 3, []int{12}, []int{2}}, // a budget too small to divide: the grid
		{2, 15, 3, []int{2}, []int{15}}, // fewer groups than eta: the grid
		{16, 16, 2, []int{16, 8, 4, 2, 1}, []int{1, 2, 4, 8, 16}},
		{10, 100, 4, []int{10, 2}, []int{25, 100}},
	} {
		keep, budgets := halvingRungs(c.n, c.full, c.eta)
		if !reflect.DeepEqual(keep, c.keep) || !reflect.DeepEqual(budgets, c.budgets) {
			t.Errorf("halvingRungs(%d, %d, %d) = %v, %v; want %v, %v", c.n, c.full, c.eta, keep, budgets, c.keep, c.budgets)
		}
	}
}

// tinyWorld is synth.Small's log (20,000 events): halving is about which model wins, cheaply.
var tinyOnce = sync.OnceValues(func() (*dataset.Dataset, error) {
	cfg := synth.Small(1)
	cfg.Impressions = 0
	dir, _, err := generateWorld(cfg)
	if err != nil {
		return nil, err
	}
	return dataset.Load(dir, dataset.LoadOptions{})
})

func tinyWorld(t *testing.T) *dataset.Dataset {
	t.Helper()
	ds, err := tinyOnce()
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// countedIALS registers an ials kind that counts the iterations it trains, and removes it when the
// test ends.
func countedIALS(t *testing.T) *atomic.Int64 {
	t.Helper()
	var iters atomic.Int64
	base := kinds["ials"]
	k := *base
	k.train = func(ctx context.Context, env TrainEnv, params any) (Model, error) {
		iters.Add(int64(params.(*als.IALSParams).Iterations))
		return base.train(ctx, env, params)
	}
	kinds["counted_ials"] = &k
	t.Cleanup(func() { delete(kinds, "counted_ials") })
	return &iters
}

const halvingPipeline = `name: halving
models:
  ials:
    type: counted_ials
    params:
      factors: 8
      alpha: [1, 64, 1024]
      reg: [1, 3000, 100000]
      iterations: 9
      solver: cg
retrieve:
  sources:
    - {model: ials, k: 100}
tuning: {metric: ndcg@10, strategy: %s}
`

// TestHalvingPicksTheGridWinner: on a grid with a clear winner, successive halving chooses what
// the full grid chooses, and trains fewer iALS iterations on the validation split.
func TestHalvingPicksTheGridWinner(t *testing.T) {
	ds := tinyWorld(t)
	iters := countedIALS(t)
	run := func(strategy string) (*Manifest, int64) {
		cfg, err := ParseConfig("halving.yaml", []byte(strings.Replace(halvingPipeline, "%s", strategy, 1)))
		if err != nil {
			t.Fatal(err)
		}
		iters.Store(0)
		man, err := Train(context.Background(), cfg, ds, t.TempDir(), Options{Progress: progress.Options{Disabled: true}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return man, iters.Load()
	}
	grid, gridIters := run("grid")
	halv, halvIters := run("halving")
	g, h := grid.Models["ials"], halv.Models["ials"]
	for _, tr := range g.Trials {
		t.Logf("grid %v: ndcg@10 %.4f", tr.Params, tr.Metrics["ndcg@10"])
	}
	if !reflect.DeepEqual(g.Chosen, h.Chosen) {
		t.Fatalf("halving chose %v, the grid %v", h.Chosen, g.Chosen)
	}
	// Tuning trains 9 × 9 iterations on the grid, 9 × 1 + 3 × 3 + 1 × 9 by halving; both refit the
	// winner once on 9.
	if gridIters != 9*9+9 || halvIters != 9+9+9+9 {
		t.Errorf("iterations trained: grid %d, halving %d; want %d and %d", gridIters, halvIters, 9*9+9, 9+9+9+9)
	}
	if g.TuningBudget != 81 || h.TuningBudget != 27 || h.Strategy != StrategyHalving || g.Strategy != "" {
		t.Errorf("manifest: grid budget %d, halving budget %d (strategy %q)", g.TuningBudget, h.TuningBudget, h.Strategy)
	}
	cfg, err := ParseConfig("halving.yaml", []byte(strings.Replace(halvingPipeline, "%s", "halving", 1)))
	if err != nil {
		t.Fatal(err)
	}
	trials, err := cfg.Grid("ials")
	if err != nil {
		t.Fatal(err)
	}
	if n := halvingTrials(trials, kinds["counted_ials"], 3); n != len(h.Trials) {
		t.Errorf("the plan counts %d halving trials, %d ran", n, len(h.Trials))
	}
	// Rungs below the last replay a sample of the validation steps (at least minRungSteps); the last
	// replays them all.
	if len(h.Trials) != 9+3+1 || h.Trials[0].Rung != 1 || h.Trials[0].Budget != 1 || h.Trials[0].Steps != minRungSteps ||
		h.Trials[12].Rung != 3 || h.Trials[12].Budget != 9 || h.Trials[12].Steps != 0 {
		t.Errorf("halving trials %+v", h.Trials)
	}
}

func TestHalvingConfigErrors(t *testing.T) {
	countedIALS(t)
	for _, c := range []struct{ yaml, key, msg string }{
		{"tuning: {strategy: halfing}", "tuning.strategy", `unknown strategy "halfing" (want grid or halving); did you mean "halving"?`},
		{"tuning: {strategy: halving, eta: 1}", "tuning.eta", "must be at least 2"},
		{"tuning: {eta: 0}", "tuning.eta", "must be at least 2"},
		{"tuning: {strategy: halving}\n" + `models:
  ials:
    type: ials
    params: {alpha: [1, 8], iterations: [5, 10]}`, "models.ials.params.iterations", "give one value, the full budget"},
		{"tuning: {strategy: halving}\n" + `models:
  imp:
    type: imported
    params: {path: x.npz, fold_in: [true, false]}`, "", ""}, // serving parameters only: one training, nothing to halve
	} {
		src := "name: x\n" + c.yaml + "\nretrieve: {sources: [{model: " + firstModel(c.yaml) + ", k: 10}]}\n"
		if !strings.Contains(c.yaml, "models:") {
			src += "models: {ials: {type: ials, params: {alpha: [1, 8]}}}\n"
		}
		_, err := ParseConfig("bad.yaml", []byte(src))
		if c.key == "" {
			if err != nil && strings.Contains(err.Error(), "halving") {
				t.Errorf("%q: %v", c.yaml, err)
			}
			continue
		}
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != c.key || !strings.Contains(ce.Msg, c.msg) || ce.Line == 0 {
			t.Errorf("%q: err = %v, want %s: …%s… with a line", c.yaml, err, c.key, c.msg)
		}
	}
}

func firstModel(yaml string) string {
	if strings.Contains(yaml, "imp:") {
		return "imp"
	}
	return "ials"
}
