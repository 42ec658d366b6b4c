package ope

import (
	"context"

	"gonum.org/v1/gonum/stat"
)

// ShrunkMean is a context-free direct model: the mean reward per (action, position), shrunk
// towards coarser means by empirical Bayes, so that cells with few rows (or few clicks) borrow
// from the rest. It models
//
//	q̂(a, k) = μ + δ_k + α_a + γ_ak
//
// fitted in turn: μ the mean reward, δ_k the position effects, α_a the action effects (on the
// rewards less μ + δ_k) and γ_ak the cell effects (on what is left). Each effect is its group's
// mean residual ȳ_g, over n_g rows, times n_g τ² / (n_g τ² + σ²), where σ² is the variance of the
// training rewards and τ², the spread of the true effects, is estimated by the method of moments
// as max(0, mean_g(ȳ_g² − σ²/n_g)). Predictions are clamped to the range of the training rewards.
// It has no parameters.
type ShrunkMean struct{}

// Fit estimates the effects on the training rows.
func (ShrunkMean) Fit(ctx context.Context, l *Log, train []int) (RewardPredictor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	A, K := l.Actions, l.Positions
	m := &shrunkTable{q: make([][]float64, K)}
	if len(train) == 0 {
		for k := range m.q {
			m.q[k] = make([]float64, A)
		}
		return m, nil
	}
	y := make([]float64, len(train))
	lo, hi := l.Rows[train[0]].Reward, l.Rows[train[0]].Reward
	for j, i := range train {
		y[j] = l.Rows[i].Reward
		lo, hi = min(lo, y[j]), max(hi, y[j])
	}
	mu, variance := stat.PopMeanVariance(y, nil)
	for j := range y {
		y[j] -= mu
	}
	// Residual means per group, shrunk; y is updated in place to the residuals after each level.
	group := func(nGroups int, of func(r *Row) int) []float64 {
		sum := make([]float64, nGroups)
		cnt := make([]float64, nGroups)
		for j, i := range train {
			g := of(&l.Rows[i])
			sum[g] += y[j]
			cnt[g]++
		}
		eff := shrink(sum, cnt, variance)
		for j, i := range train {
			y[j] -= eff[of(&l.Rows[i])]
		}
		return eff
	}
	delta := group(K, func(r *Row) int { return r.Position })
	alpha := group(A, func(r *Row) int { return r.Action })
	gamma := group(A*K, func(r *Row) int { return r.Action*K + r.Position })
	for k := range m.q {
		m.q[k] = make([]float64, A)
		for a := range A {
			m.q[k][a] = min(hi, max(lo, mu+delta[k]+alpha[a]+gamma[a*K+k]))
		}
	}
	return m, nil
}

// shrink turns per-group residual sums and counts into empirical-Bayes shrunk mean effects
// (groups without rows get 0).
func shrink(sum, cnt []float64, sigma2 float64) []float64 {
	eff := make([]float64, len(sum))
	if sigma2 == 0 {
		return eff
	}
	tau2, groups := 0.0, 0
	for g := range sum {
		if cnt[g] > 0 {
			m := sum[g] / cnt[g]
			tau2 += m*m - sigma2/cnt[g]
			groups++
		}
	}
	if groups == 0 || tau2 <= 0 {
		return eff
	}
	tau2 /= float64(groups)
	for g := range sum {
		if cnt[g] > 0 {
			eff[g] = sum[g] / cnt[g] * cnt[g] * tau2 / (cnt[g]*tau2 + sigma2)
		}
	}
	return eff
}

// shrunkTable is a fitted ShrunkMean: q[k][a].
type shrunkTable struct{ q [][]float64 }

func (m *shrunkTable) Predict(r *Row, dst []float64) { copy(dst, m.q[r.Position]) }
