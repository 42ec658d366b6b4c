package ope

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestValidateNamesRowAndField(t *testing.T) {
	good := func() *Log {
		return &Log{Actions: 2, Positions: 2, Rows: []Row{
			{Context: []float64{1, 2}, Action: 1, Position: 1, Reward: 1, Propensity: 0.5},
			{Context: []float64{3, 4}, Action: 0, Position: 0, Reward: 0, Propensity: 1},
		}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("good log: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(r *Row)
		field string
	}{
		{"action too large", func(r *Row) { r.Action = 2 }, "action"},
		{"negative action", func(r *Row) { r.Action = -1 }, "action"},
		{"position too large", func(r *Row) { r.Position = 2 }, "position"},
		{"NaN reward", func(r *Row) { r.Reward = math.NaN() }, "reward"},
		{"infinite reward", func(r *Row) { r.Reward = math.Inf(1) }, "reward"},
		{"zero propensity", func(r *Row) { r.Propensity = 0 }, "propensity"},
		{"propensity above 1", func(r *Row) { r.Propensity = 1.5 }, "propensity"},
		{"NaN propensity", func(r *Row) { r.Propensity = math.NaN() }, "propensity"},
		{"short context", func(r *Row) { r.Context = []float64{1} }, "context"},
		{"NaN feature", func(r *Row) { r.Context = []float64{1, math.NaN()} }, "context"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := good()
			tc.edit(&l.Rows[1])
			err := l.Validate()
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RowError", err)
			}
			if re.Row != 1 || re.Field != tc.field {
				t.Errorf("row %d field %q, want row 1 field %q (%v)", re.Row, re.Field, tc.field, err)
			}
			// The estimators refuse the log with the same error.
			if _, err := IPS(context.Background(), l, Uniform{2}, Options{}); !errors.As(err, &re) {
				t.Errorf("IPS accepted the bad log: %v", err)
			}
		})
	}
	for _, l := range []*Log{{Actions: 0, Positions: 1}, {Actions: 1, Positions: 0}, nil} {
		if err := l.Validate(); err == nil {
			t.Errorf("log %+v accepted", l)
		}
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, o := range []Options{{Clip: -1}, {Clip: math.NaN()}, {Level: 1}, {Level: -0.5}, {Bootstrap: -1}, {Folds: 1}} {
		if _, err := DR(context.Background(), tinyLog(), tinyPolicy, o); err == nil || !strings.HasPrefix(err.Error(), "ope: ") {
			t.Errorf("options %+v: error %v", o, err)
		}
	}
	if _, err := IPS(context.Background(), &Log{Actions: 2, Positions: 1, Rows: tinyLog().Rows[:1]}, tinyPolicy, Options{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("one row: %v, want ErrEmpty", err)
	}
	if _, err := DR(context.Background(), tinyLog(), tinyPolicy, Options{Folds: 5}); !errors.Is(err, ErrEmpty) {
		t.Errorf("4 rows in 5 folds: %v, want ErrEmpty", err)
	}
}

// badPolicy returns whatever it is told to, to check that the estimators refuse it.
type badPolicy struct {
	prob float64
	dist []float64
}

func (p badPolicy) Prob(int, *Row, int) float64       { return p.prob }
func (p badPolicy) Dist(_ int, _ *Row, dst []float64) { copy(dst, p.dist) }

func TestPolicyRefused(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		pi    Distribution
		field string
	}{
		{"probability above 1", badPolicy{prob: 1.5, dist: []float64{0.5, 0.5}}, "policy probability"},
		{"NaN probability", badPolicy{prob: math.NaN(), dist: []float64{0.5, 0.5}}, "policy probability"},
		{"distribution not summing to 1", badPolicy{prob: 0.5, dist: []float64{0.5, 0.6}}, "policy distribution"},
		{"Dist and Prob disagree", badPolicy{prob: 0.5, dist: []float64{0.7, 0.3}}, "policy distribution"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(ctx, tinyLog(), tc.pi, Options{Folds: 2})
			var re *RowError
			if !errors.As(err, &re) || re.Field != tc.field {
				t.Errorf("error %v, want a *RowError on %q", err, tc.field)
			}
		})
	}
	for _, pi := range []Distribution{Uniform{3}, Table{{0.5, 0.5}, {0.5, 0.5}}, Table{{1}}} {
		if _, err := Evaluate(ctx, tinyLog(), pi, Options{Folds: 2}); err == nil || !strings.Contains(err.Error(), "does not fit the log") {
			t.Errorf("policy %v of the wrong shape: %v", pi, err)
		}
	}
	if _, err := IPS(ctx, tinyLog(), nil, Options{}); err == nil {
		t.Error("nil policy accepted")
	}
}

func TestNewTable(t *testing.T) {
	if _, err := NewTable([][]float64{{0.5, 0.5}, {1, 0}}, 2, 2); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][][]float64{{{0.5, 0.5}}, {{0.5, 0.5}, {1}}, {{0.5, 0.6}, {1, 0}}, {{1.5, -0.5}, {1, 0}}} {
		if _, err := NewTable(bad, 2, 2); err == nil {
			t.Errorf("table %v accepted", bad)
		}
	}
}

// A model whose prediction is not finite is named with its row.
func TestDirectModelPredictionRefused(t *testing.T) {
	_, err := DR(context.Background(), tinyLog(), tinyPolicy, Options{Folds: 2, Model: fixedModel{{math.NaN(), 0}}})
	var re *RowError
	if !errors.As(err, &re) || re.Field != "direct model prediction" {
		t.Errorf("error %v, want a *RowError on the direct model's prediction", err)
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, tinyLog(), tinyPolicy, Options{Folds: 2}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}
