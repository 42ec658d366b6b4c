package ope

import (
	"context"
	"fmt"
)

// ctxEvery is how many rows a loop handles between checks of its context.
const ctxEvery = 4096

// weights are the importance weights w_i = π(a_i | row i) / p_i of a log, clipped to Clip when
// it is set, with their diagnostics.
type weights struct {
	w         []float64 // clipped
	maxWeight float64   // largest before clipping
	clipped   int
}

// prepare validates the options, the log and the policy's fit to it.
func prepare(l *Log, pi Policy, o Options) (Options, error) {
	o, err := o.withDefaults()
	if err != nil {
		return o, err
	}
	if err := l.Validate(); err != nil {
		return o, fmt.Errorf("ope: %w", err)
	}
	if len(l.Rows) < 2 {
		return o, fmt.Errorf("ope: log has %d rows, need at least 2: %w", len(l.Rows), ErrEmpty)
	}
	if err := checkPolicy(pi, l); err != nil {
		return o, err
	}
	return o, nil
}

// prepareWeights is the common start of every estimator: validate the options, the log and the
// policy's fit to it, then compute the (clipped) importance weights once so that Evaluate can
// share them between IPS, SNIPS and DR.
func prepareWeights(ctx context.Context, l *Log, pi Policy, opt Options) (Options, weights, error) {
	o, err := prepare(l, pi, opt)
	if err != nil {
		return o, weights{}, err
	}
	ws, err := importanceWeights(ctx, l, pi, o.Clip)
	if err != nil {
		return o, weights{}, err
	}
	return o, ws, nil
}

// weighted is the public entry of an estimator: prepareWeights, then est on the weights.
func weighted(ctx context.Context, l *Log, pi Policy, opt Options, est func(weights, Options) (Estimate, error)) (Estimate, error) {
	o, ws, err := prepareWeights(ctx, l, pi, opt)
	if err != nil {
		return Estimate{}, err
	}
	return est(ws, o)
}

// importanceWeights computes the weights of every row of a validated log.
func importanceWeights(ctx context.Context, l *Log, pi Policy, clip float64) (weights, error) {
	ws := weights{w: make([]float64, len(l.Rows))}
	for i := range l.Rows {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return weights{}, err
			}
		}
		r := &l.Rows[i]
		p := pi.Prob(i, r, r.Action)
		if err := checkProb(i, r.Action, p); err != nil {
			return weights{}, fmt.Errorf("ope: %w", err)
		}
		w := p / r.Propensity
		ws.maxWeight = max(ws.maxWeight, w)
		if clip > 0 && w > clip {
			w = clip
			ws.clipped++
		}
		ws.w[i] = w
	}
	return ws, nil
}

// ess is Kish's effective sample size (Σw)²/Σw²; 0 when every weight is 0.
func (ws weights) ess() float64 {
	s, s2 := 0.0, 0.0
	for _, w := range ws.w {
		s += w
		s2 += w * w
	}
	if s2 == 0 {
		return 0
	}
	return s * s / s2
}

// weightedRewards is the per-row terms w_i r_i that IPS averages and SNIPS divides by Σ w_i.
func (ws weights) weightedRewards(l *Log) []float64 {
	u := make([]float64, len(l.Rows))
	for i := range l.Rows {
		u[i] = ws.w[i] * l.Rows[i].Reward
	}
	return u
}

// annotate copies the weight diagnostics into e.
func (ws weights) annotate(e Estimate) Estimate {
	e.ESS, e.MaxWeight, e.Clipped = ws.ess(), ws.maxWeight, ws.clipped
	return e
}
