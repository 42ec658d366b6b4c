package ope

import (
	"context"
	"fmt"
	"math"
)

// DR is the doubly robust estimate of pi's value on the log (Dudík, Langford & Li 2011):
//
//	(1/n) Σ_i [ Σ_a π(a | row i) q̂(x_i, a, k_i) + w_i (r_i − q̂(x_i, a_i, k_i)) ]
//
// with the direct model q̂ (Options.Model, ShrunkMean by default) cross-fitted in Options.Folds
// folds, so that row i's term uses a model fitted without row i, and w_i clipped to
// Options.Clip when it is set. The interval is the normal approximation on the per-row terms
// (plus, when Options.Bootstrap > 0, a percentile bootstrap of those terms with q̂ held fixed).
func DR(ctx context.Context, l *Log, pi Distribution, opt Options) (Estimate, error) {
	return weighted(ctx, l, pi, opt, func(ws weights, o Options) (Estimate, error) { return dr(ctx, l, pi, ws, o) })
}

func dr(ctx context.Context, l *Log, pi Distribution, ws weights, o Options) (Estimate, error) {
	psi := make([]float64, len(l.Rows))
	dist := make([]float64, l.Actions)
	qhat := make([]float64, l.Actions)
	err := crossFit(ctx, l, o, func(pred RewardPredictor, rows []int) error {
		for j, i := range rows {
			if j%ctxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			r := &l.Rows[i]
			pi.Dist(i, r, dist)
			if err := checkDist(i, dist); err != nil {
				return fmt.Errorf("ope: %w", err)
			}
			if p := pi.Prob(i, r, r.Action); math.Abs(dist[r.Action]-p) > distTolerance {
				return fmt.Errorf("ope: %w", &RowError{i, "policy distribution", fmt.Errorf("Dist gives the logged action %d probability %g, Prob gives %g", r.Action, dist[r.Action], p)})
			}
			pred.Predict(r, qhat)
			dm := 0.0
			for a, q := range qhat {
				if math.IsNaN(q) || math.IsInf(q, 0) {
					return fmt.Errorf("ope: %w", &RowError{i, "direct model prediction", fmt.Errorf("q̂(action %d) = %g", a, q)})
				}
				dm += dist[a] * q
			}
			psi[i] = dm + ws.w[i]*(r.Reward-qhat[r.Action])
		}
		return nil
	})
	if err != nil {
		return Estimate{}, err
	}
	e, err := ratio{u: psi}.estimate(ctx, NameDR, o)
	return ws.annotate(e), err
}
