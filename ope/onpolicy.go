package ope

import (
	"context"
	"fmt"
)

// OnPolicy is the log's own mean reward, the logging policy's value measured on the log, with
// its normal-approximation interval, sd(r)/√n (and the bootstrap's when Options.Bootstrap > 0).
// Only Options.Level, Bootstrap, Seed and Logger apply.
func OnPolicy(ctx context.Context, l *Log, opt Options) (Estimate, error) {
	o, err := opt.withDefaults()
	if err != nil {
		return Estimate{}, err
	}
	if err := l.Validate(); err != nil {
		return Estimate{}, fmt.Errorf("ope: %w", err)
	}
	u := make([]float64, len(l.Rows))
	for i := range l.Rows {
		u[i] = l.Rows[i].Reward
	}
	return ratio{u: u}.estimate(ctx, NameOnPolicy, o)
}
