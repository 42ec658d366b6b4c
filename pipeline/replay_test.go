package pipeline

import (
	"context"
	"reflect"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
)

// TestValidationReplayCap: a trial replays every validation step when the split has no more
// events than the cap (the small logs' case: the same figures as a plain replay), a uniform sample
// of the cap's size beyond it, and a halving rung's share of the capped steps.
func TestValidationReplayCap(t *testing.T) {
	ds := tinyWorld(t)
	valid := dataset.TemporalSplit(dataset.TemporalSplit(ds.Events, 0.9).Train, 0.9)
	env := Options{}.env(valid, ds)
	pop, _, err := trainModel(context.Background(), nil, "popularity", env, kinds["popularity"].newParams())
	if err != nil {
		t.Fatal(err)
	}
	p, err := trialPipeline("pop", pop, pop, 100, valid.TrainItems)
	if err != nil {
		t.Fatal(err)
	}
	n := len(valid.Test)
	run := func(steps, limit int) (map[string]float64, int) {
		t.Helper()
		rep, err := validationReplay(context.Background(), valid, p.Replay(), ds, steps, Options{maxSteps: limit})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sample == nil {
			return rep.Metrics, 0
		}
		return rep.Metrics, rep.Sample.Steps
	}
	full, sampled := run(0, 0)
	if sampled != 0 || n > maxValidationSteps {
		t.Fatalf("%d validation events under the default cap %d: replayed a sample of %d", n, maxValidationSteps, sampled)
	}
	if at, sampled := run(0, n); sampled != 0 || !reflect.DeepEqual(at, full) {
		t.Errorf("a cap of the validation size (%d) sampled %d steps: %v, want %v", n, sampled, at, full)
	}
	small, sampled := run(0, n/4)
	if sampled != n/4 {
		t.Errorf("a cap of %d replayed %d steps", n/4, sampled)
	}
	if again, _ := run(0, n/4); !reflect.DeepEqual(again, small) {
		t.Errorf("two capped replays differ: %v, %v (trials must be compared on the same steps)", again, small)
	}
	if _, sampled := run(n/8, n/4); sampled != n/8 {
		t.Errorf("a rung's %d steps under a cap of %d replayed %d", n/8, n/4, sampled)
	}
	if _, sampled := run(n/2, n/4); sampled != n/4 {
		t.Errorf("%d steps asked under a cap of %d replayed %d", n/2, n/4, sampled)
	}
	// Halving's rungs take their shares of the capped steps; the last rung replays the cap.
	tu := &tuner{valid: valid, opt: Options{maxSteps: 1500}}
	if n <= 1500 {
		t.Fatalf("the tiny world's validation split has %d events: the rung check needs more than 1500", n)
	}
	if r := tu.rung(0, 3, 1, 9); r.steps != minRungSteps {
		t.Errorf("rung 1 of 3 (a ninth of the budget) replays %d steps, want at least %d", r.steps, minRungSteps)
	}
	if r := tu.rung(1, 3, 8, 9); r.steps != 1500*8/9 {
		t.Errorf("rung 2 of 3 (8/9 of the budget) replays %d steps, want 8/9 of the cap, %d", r.steps, 1500*8/9)
	}
	if r := tu.rung(2, 3, 9, 9); r.steps != 0 {
		t.Errorf("the last rung replays %d steps, want 0 (the cap, in validationReplay)", r.steps)
	}
}
