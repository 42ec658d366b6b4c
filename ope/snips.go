package ope

import "context"

// SNIPS is the self-normalised IPS estimate of pi's value on the log, Σ w_i r_i / Σ w_i
// (Swaminathan & Joachims 2015), with the weights clipped to Options.Clip when it is set. Its
// normal interval linearises the ratio (delta method): the standard error of the mean of
// w_i (r_i − V) / mean(w). It returns ErrNoSupport when every weight is 0.
func SNIPS(ctx context.Context, l *Log, pi Policy, opt Options) (Estimate, error) {
	return weighted(ctx, l, pi, opt, func(ws weights, o Options) (Estimate, error) { return snips(ctx, l, ws, o) })
}

func snips(ctx context.Context, l *Log, ws weights, o Options) (Estimate, error) {
	e, err := ratio{u: ws.weightedRewards(l), v: ws.w}.estimate(ctx, NameSNIPS, o)
	return ws.annotate(e), err
}
