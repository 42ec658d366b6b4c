package ope

import "context"

// Report holds the three estimates of one policy on one log.
type Report struct {
	IPS, SNIPS, DR Estimate
}

// Estimates lists the report's estimates in the order IPS, SNIPS, DR.
func (r Report) Estimates() []Estimate { return []Estimate{r.IPS, r.SNIPS, r.DR} }

// Evaluate computes IPS, SNIPS and DR of pi on the log with the same options, validating the log
// and computing the importance weights once.
func Evaluate(ctx context.Context, l *Log, pi Distribution, opt Options) (Report, error) {
	o, ws, err := prepareWeights(ctx, l, pi, opt)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	if rep.IPS, err = ips(ctx, l, ws, o); err != nil {
		return Report{}, err
	}
	if rep.SNIPS, err = snips(ctx, l, ws, o); err != nil {
		return Report{}, err
	}
	if rep.DR, err = dr(ctx, l, pi, ws, o); err != nil {
		return Report{}, err
	}
	return rep, nil
}
