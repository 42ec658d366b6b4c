package ope

import (
	"context"
	"errors"
	"math"
	"testing"
)

// z95 is the standard normal's 97.5% quantile.
const z95 = 1.959963984540054

// tinyLog is the hand-computed example: two actions, one position, four rows. With the policy
// tinyPolicy = (0.8, 0.2) the weights are 8/5, 2/5, 16/5 and 4/15.
func tinyLog() *Log {
	return &Log{Actions: 2, Positions: 1, Rows: []Row{
		{Action: 0, Reward: 1, Propensity: 0.5},
		{Action: 1, Reward: 0, Propensity: 0.5},
		{Action: 0, Reward: 1, Propensity: 0.25},
		{Action: 1, Reward: 1, Propensity: 0.75},
	}}
}

var tinyPolicy = Table{{0.8, 0.2}}

// fixedModel predicts the same q̂[position][action] whatever it is trained on.
type fixedModel [][]float64

func (m fixedModel) Fit(context.Context, *Log, []int) (RewardPredictor, error) {
	return &shrunkTable{q: m}, nil
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func TestOracleTinyLog(t *testing.T) {
	ctx := context.Background()
	// IPS: terms w·r = 24/15, 0, 48/15, 4/15; mean 19/15; deviations 5, −19, 29, −15 (/15),
	// sample variance 1452/225/3 = 484/225, sd 22/15, se 11/15.
	// SNIPS: Σwr = 76/15, Σw = 82/15, V = 38/41; influence w(r − V)/mean(w) with mean(w) = 41/30:
	// 144, −456, 288, 24 (/1681); Σφ² = 312192/1681²; se = √(312192/3)/1681/2 = √104064/3362.
	// DR with q̂ = (0.5, 0.25): Σπq̂ = 0.45; terms 1.25, 0.35, 2.05, 0.65; mean 1.075;
	// squared deviations sum 1.6875, variance 0.5625, sd 0.75, se 0.375.
	// Clipped at λ = 2: the third weight 16/5 becomes 2; IPS = (8/5 + 2 + 4/15)/4 = 29/30.
	tests := []struct {
		name      string
		run       func(Options) (Estimate, error)
		opt       Options
		value, se float64
		clipped   int
	}{
		{"ips", func(o Options) (Estimate, error) { return IPS(ctx, tinyLog(), tinyPolicy, o) }, Options{}, 19.0 / 15, 11.0 / 15, 0},
		{"snips", func(o Options) (Estimate, error) { return SNIPS(ctx, tinyLog(), tinyPolicy, o) }, Options{}, 38.0 / 41, math.Sqrt(104064) / 3362, 0},
		{"dr", func(o Options) (Estimate, error) { return DR(ctx, tinyLog(), tinyPolicy, o) },
			Options{Folds: 2, Model: fixedModel{{0.5, 0.25}}}, 1.075, 0.375, 0},
		{"ips clipped", func(o Options) (Estimate, error) { return IPS(ctx, tinyLog(), tinyPolicy, o) }, Options{Clip: 2}, 29.0 / 30, math.NaN(), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.run(tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !near(e.Value, tc.value) {
				t.Errorf("value %.15g, want %.15g", e.Value, tc.value)
			}
			if !math.IsNaN(tc.se) {
				if !near(e.StdErr, tc.se) {
					t.Errorf("std err %.15g, want %.15g", e.StdErr, tc.se)
				}
				if !near(e.CI.Lo, tc.value-z95*tc.se) || !near(e.CI.Hi, tc.value+z95*tc.se) {
					t.Errorf("interval %v, want %g ± %g·%g", e.CI, tc.value, z95, tc.se)
				}
			}
			if e.N != 4 || e.Level != 0.95 || e.Clipped != tc.clipped || !near(e.MaxWeight, 3.2) {
				t.Errorf("diagnostics n %d level %g clipped %d max weight %g", e.N, e.Level, e.Clipped, e.MaxWeight)
			}
		})
	}
}

func TestOracleESS(t *testing.T) {
	// Σw = 82/15, Σw² = (576 + 36 + 2304 + 16)/225 = 2932/225: ESS = 6724/2932.
	e, err := IPS(context.Background(), tinyLog(), tinyPolicy, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := 6724.0 / 2932; !near(e.ESS, want) {
		t.Errorf("ESS %g, want %g", e.ESS, want)
	}
}

func TestOnPolicyOracle(t *testing.T) {
	// Rewards 1, 0, 1, 1: mean 3/4, sample variance 1/4, se (1/2)/2.
	e, err := OnPolicy(context.Background(), tinyLog(), Options{Level: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	z90 := 1.6448536269514722
	if !near(e.Value, 0.75) || !near(e.StdErr, 0.25) || !near(e.CI.Lo, 0.75-z90*0.25) || !near(e.CI.Hi, 0.75+z90*0.25) {
		t.Errorf("on-policy %+v, want 0.75 ± %g·0.25", e, z90)
	}
	if e.ESS != 0 || e.MaxWeight != 0 {
		t.Errorf("on-policy estimate has weight diagnostics: %+v", e)
	}
}

// The logging policy evaluated on its own log has every weight 1: IPS and SNIPS equal the log's
// mean reward, and so does DR when q̂ does not depend on the action (its direct term then
// cancels the correction's q̂ row by row).
func TestLoggingPolicyOnItsOwnLog(t *testing.T) {
	l := &Log{Actions: 3, Positions: 2}
	probs := [][]float64{{0.5, 0.3, 0.2}, {0.1, 0.1, 0.8}}
	rewards := []float64{1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1}
	for i, r := range rewards {
		k, a := i%2, (i/2)%3
		l.Rows = append(l.Rows, Row{Action: a, Position: k, Reward: r, Propensity: probs[k][a]})
	}
	pi, err := NewTable(probs, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(context.Background(), l, pi, Options{Folds: 3, Model: fixedModel{{0.3, 0.3, 0.3}, {0.9, 0.9, 0.9}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rep.Estimates() {
		if !near(e.Value, 0.5) {
			t.Errorf("%s = %g, want the log mean 0.5", e.Estimator, e.Value)
		}
	}
	if !near(rep.IPS.ESS, 12) {
		t.Errorf("ESS %g, want 12", rep.IPS.ESS)
	}
}

func TestShrunkMeanOracle(t *testing.T) {
	// Action 0 rewards 1, 1, 1, 0 and action 1 rewards 0, 0, 0, 0 at one position: μ = 3/8,
	// σ² = 15/64. One position: δ = 0. Action residual means ±3/8 over 4 rows:
	// τ² = 9/64 − 15/256 = 21/256, shrink 4τ²/(4τ² + σ²) = 7/12, α = ±7/32. Cell residuals
	// ±5/32: (5/32)² < σ²/4, so τ² = 0 and γ = 0. q̂ = 3/8 ± 7/32 = 19/32 and 5/32.
	l := &Log{Actions: 2, Positions: 1}
	for _, r := range []float64{1, 1, 1, 0} {
		l.Rows = append(l.Rows, Row{Action: 0, Reward: r, Propensity: 0.5})
	}
	for range 4 {
		l.Rows = append(l.Rows, Row{Action: 1, Reward: 0, Propensity: 0.5})
	}
	pred, err := ShrunkMean{}.Fit(context.Background(), l, []int{0, 1, 2, 3, 4, 5, 6, 7})
	if err != nil {
		t.Fatal(err)
	}
	q := make([]float64, 2)
	pred.Predict(&l.Rows[0], q)
	if !near(q[0], 19.0/32) || !near(q[1], 5.0/32) {
		t.Errorf("q̂ = %v, want [19/32 5/32]", q)
	}
}

func TestShrunkMeanPositionsAndEmptyCells(t *testing.T) {
	// Position 1 always pays 1, position 0 never; many rows, so the position effect is kept
	// almost whole, and an action never seen gets μ + δ_k.
	l := &Log{Actions: 3, Positions: 2}
	for i := range 400 {
		k := i % 2
		l.Rows = append(l.Rows, Row{Action: 0, Position: k, Reward: float64(k), Propensity: 0.5})
	}
	train := make([]int, len(l.Rows))
	for i := range train {
		train[i] = i
	}
	pred, err := ShrunkMean{}.Fit(context.Background(), l, train)
	if err != nil {
		t.Fatal(err)
	}
	q := make([]float64, 3)
	for k, want := range []float64{0, 1} {
		pred.Predict(&Row{Position: k}, q)
		for a := range q {
			if math.Abs(q[a]-want) > 0.01 {
				t.Errorf("position %d action %d: q̂ = %g, want ≈ %g", k, a, q[a], want)
			}
		}
	}
}

func TestRidgeOracle(t *testing.T) {
	// One action, x = 0, 1, 2, y = 1, 2, 4, λ = 1: ΦᵀΦ + diag(0, 1) = [[3 3] [3 6]], Φᵀy = (7, 10),
	// β = (4/3, 1). Predictions clamp to [1, 4].
	l := &Log{Actions: 1, Positions: 1, Rows: []Row{
		{Context: []float64{0}, Reward: 1, Propensity: 1},
		{Context: []float64{1}, Reward: 2, Propensity: 1},
		{Context: []float64{2}, Reward: 4, Propensity: 1},
	}}
	pred, err := Ridge{Lambda: 1}.Fit(context.Background(), l, []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	q := make([]float64, 1)
	for _, tc := range []struct{ x, want float64 }{{1, 7.0 / 3}, {0.5, 4.0/3 + 0.5}, {10, 4}, {-5, 1}} {
		pred.Predict(&Row{Context: []float64{tc.x}}, q)
		if !near(q[0], tc.want) {
			t.Errorf("q̂(%g) = %.15g, want %.15g", tc.x, q[0], tc.want)
		}
	}
}

func TestRidgePositionsAndUnseenAction(t *testing.T) {
	// Reward = position index exactly, no context: the position dummies carry it (up to the
	// penalty), and an action without rows predicts the training mean.
	l := &Log{Actions: 2, Positions: 3}
	for i := range 300 {
		l.Rows = append(l.Rows, Row{Action: 0, Position: i % 3, Reward: float64(i % 3), Propensity: 1})
	}
	train := make([]int, len(l.Rows))
	for i := range train {
		train[i] = i
	}
	pred, err := Ridge{}.Fit(context.Background(), l, train)
	if err != nil {
		t.Fatal(err)
	}
	q := make([]float64, 2)
	for k := range 3 {
		pred.Predict(&Row{Position: k}, q)
		if math.Abs(q[0]-float64(k)) > 0.05 || !near(q[1], 1) {
			t.Errorf("position %d: q̂ = %v, want ≈ [%d 1]", k, q, k)
		}
	}
}

// With a model that memorises its training rows' rewards (and knows nothing else), cross-fitted DR
// must equal IPS exactly: every row is predicted by a model that never saw it. A DR fitted in
// sample would instead reproduce the logged rewards.
func TestCrossFittingDoesNotLeak(t *testing.T) {
	l := &Log{Actions: 2, Positions: 1}
	for i := range 40 {
		l.Rows = append(l.Rows, Row{Context: []float64{float64(i)}, Action: i % 2, Reward: float64(i % 3 % 2), Propensity: 0.5})
	}
	ctx := context.Background()
	for _, folds := range []int{2, 5, 40} {
		opt := Options{Folds: folds, Seed: 7, Model: memorizer{}}
		d, err := DR(ctx, l, tinyPolicy, opt)
		if err != nil {
			t.Fatal(err)
		}
		i, err := IPS(ctx, l, tinyPolicy, opt)
		if err != nil {
			t.Fatal(err)
		}
		if !near(d.Value, i.Value) || !near(d.StdErr, i.StdErr) {
			t.Errorf("%d folds: DR %g ± %g, IPS %g ± %g: the direct model saw held-out rows", folds, d.Value, d.StdErr, i.Value, i.StdErr)
		}
	}
}

// memorizer predicts, for a row whose context it was trained on, that row's reward for the logged
// action, and 0 for anything else.
type memorizer struct{}

func (memorizer) Fit(_ context.Context, l *Log, train []int) (RewardPredictor, error) {
	m := memorized{}
	for _, i := range train {
		m[l.Rows[i].Context[0]] = [2]float64{float64(l.Rows[i].Action), l.Rows[i].Reward}
	}
	return m, nil
}

type memorized map[float64][2]float64

func (m memorized) Predict(r *Row, dst []float64) {
	clear(dst)
	if v, ok := m[r.Context[0]]; ok {
		dst[int(v[0])] = v[1]
	}
}

func TestFoldsPartition(t *testing.T) {
	for _, tc := range []struct{ n, k int }{{10, 2}, {11, 3}, {7, 7}, {1000, 5}} {
		folds := Folds(tc.n, tc.k, 42)
		seen := make([]int, tc.n)
		for _, f := range folds {
			if len(f) < tc.n/tc.k || len(f) > tc.n/tc.k+1 {
				t.Errorf("n %d k %d: fold of %d rows", tc.n, tc.k, len(f))
			}
			for j, i := range f {
				seen[i]++
				if j > 0 && f[j-1] >= i {
					t.Errorf("n %d k %d: fold not ascending", tc.n, tc.k)
				}
			}
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n %d k %d: row %d in %d folds", tc.n, tc.k, i, c)
			}
		}
	}
	a, b := Folds(100, 5, 1), Folds(100, 5, 1)
	c := Folds(100, 5, 2)
	if !equalFolds(a, b) {
		t.Error("Folds is not deterministic for a fixed seed")
	}
	if equalFolds(a, c) {
		t.Error("seeds 1 and 2 give the same folds")
	}
}

func equalFolds(a, b [][]int) bool {
	for f := range a {
		if len(a[f]) != len(b[f]) {
			return false
		}
		for j := range a[f] {
			if a[f][j] != b[f][j] {
				return false
			}
		}
	}
	return true
}

func TestSNIPSNoSupport(t *testing.T) {
	pi := Table{{0, 1}}
	l := &Log{Actions: 2, Positions: 1, Rows: []Row{{Action: 0, Reward: 1, Propensity: 0.5}, {Action: 0, Reward: 0, Propensity: 0.5}}}
	if _, err := SNIPS(context.Background(), l, pi, Options{}); !errors.Is(err, ErrNoSupport) {
		t.Errorf("SNIPS with no support: %v, want ErrNoSupport", err)
	}
	e, err := IPS(context.Background(), l, pi, Options{})
	if err != nil || e.Value != 0 || e.ESS != 0 {
		t.Errorf("IPS with no support: %+v, %v; want 0", e, err)
	}
}
