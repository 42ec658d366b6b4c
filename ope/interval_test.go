package ope

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

func TestBootstrapDeterministic(t *testing.T) {
	ctx := context.Background()
	run := func(seed uint64) Interval {
		e, err := SNIPS(ctx, tinyLog(), tinyPolicy, Options{Bootstrap: 500, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return *e.Bootstrap
	}
	a, b, c := run(1), run(1), run(2)
	if a != b {
		t.Errorf("seed 1 gives %v then %v", a, b)
	}
	if a == c {
		t.Errorf("seeds 1 and 2 give the same interval %v", a)
	}
	// Every resample of the four rows has a value in [min, max] of the possible ratios.
	if a.Lo < 0 || a.Hi > 1 || a.Lo > a.Hi {
		t.Errorf("SNIPS bootstrap interval %v outside [0, 1]", a)
	}
}

// For a large sample the percentile bootstrap of a mean and the normal interval agree closely.
func TestBootstrapMatchesNormalOnLargeSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	l := &Log{Actions: 2, Positions: 1}
	for range 5000 {
		a := rng.IntN(2)
		r := 0.0
		if rng.Float64() < 0.2+0.4*float64(a) {
			r = 1
		}
		l.Rows = append(l.Rows, Row{Action: a, Reward: r, Propensity: 0.5})
	}
	rep, err := Evaluate(context.Background(), l, Table{{0.9, 0.1}}, Options{Bootstrap: 1000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rep.Estimates() {
		b := *e.Bootstrap
		if math.Abs(b.Width()-e.CI.Width()) > 0.1*e.CI.Width() || math.Abs((b.Lo+b.Hi)/2-e.Value) > 0.1*e.CI.Width() {
			t.Errorf("%s: bootstrap %v, normal %v", e.Estimator, b, e.CI)
		}
		// The truth: 0.9·0.2 + 0.1·0.6 = 0.24.
		if !e.CI.Contains(0.24) {
			t.Errorf("%s: %v does not contain 0.24", e.Estimator, e.CI)
		}
	}
}

func TestConstantRewardsGiveAPointInterval(t *testing.T) {
	l := &Log{Actions: 1, Positions: 1}
	for range 10 {
		l.Rows = append(l.Rows, Row{Reward: 0.25, Propensity: 1})
	}
	e, err := OnPolicy(context.Background(), l, Options{Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if e.Value != 0.25 || e.CI != (Interval{0.25, 0.25}) || *e.Bootstrap != (Interval{0.25, 0.25}) {
		t.Errorf("constant rewards: %+v, bootstrap %v", e, *e.Bootstrap)
	}
}

func TestIntervalJSON(t *testing.T) {
	b, err := Interval{0.1, 0.3}.MarshalJSON()
	if err != nil || string(b) != "[0.1,0.3]" {
		t.Fatalf("%s, %v", b, err)
	}
	var iv Interval
	if err := iv.UnmarshalJSON(b); err != nil || iv != (Interval{0.1, 0.3}) {
		t.Errorf("%v, %v", iv, err)
	}
	if !iv.Contains(0.1) || !iv.Contains(0.3) || iv.Contains(0.31) {
		t.Error("Contains is not the closed interval")
	}
}

func TestDifferenceOracle(t *testing.T) {
	// 0.5 − 0.2 ± 1.96·√(0.03² + 0.04²) = 0.3 ± 1.96·0.05.
	a := Estimate{Value: 0.5, StdErr: 0.03, Level: 0.95}
	b := Estimate{Value: 0.2, StdErr: 0.04, Level: 0.95}
	d := Difference(a, b)
	if !near(d.Lo, 0.3-z95*0.05) || !near(d.Hi, 0.3+z95*0.05) {
		t.Errorf("difference %v, want 0.3 ± %g", d, z95*0.05)
	}
}
