package ope

import (
	"context"
	"fmt"
	"math"
)

// NameRate names Rate's estimates.
const NameRate = "rate"

// Unit is one unit of randomisation, e.g. a user of an A/B test: its successes (clicks) out of
// its trials (items shown).
type Unit struct {
	Successes, Trials float64
}

// Rate is the pooled rate Σ successes / Σ trials over independent units, with the interval of a
// ratio of sums (the delta method over units, and the percentile bootstrap over units when
// Options.Bootstrap > 0; Level, Bootstrap, Seed and Logger apply). When users are what was
// randomised, their impressions are not independent (a user who clicks once clicks again), and
// an interval over impressions would be too narrow; over users it is not.
func Rate(ctx context.Context, units []Unit, opt Options) (Estimate, error) {
	o, err := opt.withDefaults()
	if err != nil {
		return Estimate{}, err
	}
	u, v := make([]float64, len(units)), make([]float64, len(units))
	for i, x := range units {
		if !(x.Trials >= 0 && x.Successes >= 0 && x.Successes <= x.Trials) || math.IsInf(x.Trials, 0) {
			return Estimate{}, fmt.Errorf("ope: unit %d: %g successes of %g trials", i, x.Successes, x.Trials)
		}
		u[i], v[i] = x.Successes, x.Trials
	}
	return ratio{u: u, v: v}.estimate(ctx, NameRate, o)
}
