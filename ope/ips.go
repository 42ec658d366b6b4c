package ope

import "context"

// IPS is the inverse-propensity-scoring estimate of pi's value on the log,
// (1/n) Σ w_i r_i, with w_i = π(a_i | row i)/p_i clipped to Options.Clip when it is set.
// Its interval is the normal approximation on the per-row terms w_i r_i (plus the bootstrap's
// when Options.Bootstrap > 0).
func IPS(ctx context.Context, l *Log, pi Policy, opt Options) (Estimate, error) {
	return weighted(ctx, l, pi, opt, func(ws weights, o Options) (Estimate, error) { return ips(ctx, l, ws, o) })
}

func ips(ctx context.Context, l *Log, ws weights, o Options) (Estimate, error) {
	e, err := ratio{u: ws.weightedRewards(l)}.estimate(ctx, NameIPS, o)
	return ws.annotate(e), err
}
