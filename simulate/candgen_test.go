package simulate

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/synth"
)

// tinyTowers is tinyConfig with the three two-tower generators and a small model.
func tinyTowers() Config {
	cfg := tinyConfig()
	cfg.World.Impressions = 600
	cfg.Exploration, cfg.Retrain = []string{ExploreNone}, false
	cfg.Towers.Modes = []string{TowerImpressions, TowerMixed, TowerImpressionsInBatch, TowerInBatch}
	p := &cfg.Towers.Params
	p.Dim, p.Hidden, p.HistoryLen, p.AttrDim, p.ContextDim, p.BatchSize, p.Epochs, p.MixedNegatives = 8, []int{16}, 8, 4, 2, 64, 2, 32
	return cfg
}

// The generators serve from their own candidate lists, are measured on them, and learn from
// what their mode reads: the slates' clicks (the world's log, then their own slates') or every
// event (the world's, then their own clicks).
func TestTowerGenerators(t *testing.T) {
	cfg := tinyTowers()
	rep, _ := runTiny(t, cfg)
	w, err := synth.Generate(context.Background(), worldConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	clicks := 0
	for _, imp := range w.Impressions {
		clicks += len(imp.Clicked)
	}
	r0, r1 := rep.Rounds[0], rep.Rounds[1]
	for _, m := range cfg.Towers.Modes {
		name := "twotower-" + m
		if r0.Reward[name] <= 0 || r0.Reward[name] > r0.Reward["oracle"]+1e-12 {
			t.Errorf("%s: round 0 reward %v (oracle %v)", name, r0.Reward[name], r0.Reward["oracle"])
		}
		for _, rr := range rep.Rounds {
			if rc, ok := rr.CandidateRecall[name]; !ok || rc <= 0 || rc > 1 {
				t.Errorf("%s: round %d candidate recall %v (reported: %v)", name, rr.Round, rc, ok)
			}
			if js, ok := rr.CandidateJunkShare[name]; !ok || js < 0 || js > 1 {
				t.Errorf("%s: round %d candidate junk %v (reported: %v)", name, rr.Round, js, ok)
			}
		}
		ex0, ex1 := r0.TrainingRows[name], r1.TrainingRows[name]
		if m == TowerInBatch {
			if ex0 < len(w.Events)/2 {
				t.Errorf("%s: %d examples from %d events", name, ex0, len(w.Events))
			}
		} else if ex0 > clicks || ex0 < clicks/2 {
			t.Errorf("%s: %d examples; the world's slates hold %d clicks", name, ex0, clicks)
		}
		if ex1 <= ex0 {
			t.Errorf("%s: %d examples after round 0, %d before: the round's clicks were not learnt from", name, ex1, ex0)
		}
	}
	// The cascade's figures keep their meaning beside the generators.
	if _, ok := r0.CandidateJunkShare["cascade"]; !ok {
		t.Error("no candidate junk share for the cascade")
	}
}

func TestTowerConfigErrors(t *testing.T) {
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Towers.Modes = []string{"impresions"} }, "towers.modes"},
		{func(c *Config) { c.Towers.Modes = []string{TowerMixed, TowerMixed} }, "name each mode once"},
		{func(c *Config) { c.Towers.Modes, c.Towers.Params.MixedNegatives = []string{TowerMixed}, 0 }, "towers.params.mixed_negatives"},
		{func(c *Config) { c.Towers.Modes, c.Towers.Params.Dim = []string{TowerImpressions}, 0 }, "towers.params.dim"},
	} {
		cfg := DefaultConfig()
		c.edit(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one naming %s", err, c.want)
		}
	}
	// Without modes the tower parameters are not checked: nothing trains.
	cfg := DefaultConfig()
	cfg.Towers.Params.Dim = 0
	if err := cfg.Validate(); err != nil {
		t.Errorf("no modes: %v", err)
	}
}

// The generators keep a run independent of --workers: they train with a fixed worker count.
func TestTowerDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two bundles")
	}
	cfg := tinyTowers()
	cfg.Towers.Modes = []string{TowerMixed}
	cfg.Workers = 1
	a, _ := runTiny(t, cfg)
	cfg.Workers = 3
	b, _ := runTiny(t, cfg)
	if !reflect.DeepEqual(a.Rounds, b.Rounds) {
		t.Errorf("same seed, different rounds:\n%+v\n%+v", a.Rounds, b.Rounds)
	}
}
