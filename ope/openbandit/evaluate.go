package openbandit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/cascade-rec/cascade/ope"
)

// Direction names, the keys of a campaign's result.
const (
	RandomToBTS = "random_to_bts" // BTS's click rate estimated from the random log
	BTSToRandom = "bts_to_random" // the random policy's click rate estimated from the BTS log
)

// Direction is one policy's value estimated from the other's log, beside its own logged value.
type Direction struct {
	// Log and Target name the logging policy of the log used and the evaluated policy.
	Log, Target string
	// Report holds IPS, SNIPS and DR on the log.
	ope.Report
	// OnPolicy is the target policy's own mean click rate on its own log.
	OnPolicy ope.Estimate
	// TargetProb says where the target policy's probabilities came from.
	TargetProb string
	// PolicySD, when the target's probabilities were estimated (random_to_bts), is the standard
	// deviation of IPS, SNIPS and DR due to that estimate (PolicySD); nil otherwise.
	PolicySD *[3]float64
}

// Options tune Evaluate.
type Options struct {
	ope.Options
	// PolicyResamples is the number of BTS-log resamples PolicySD uses; 0 skips it.
	PolicyResamples int
	// Windows is the number of equal time windows over the logs' span in which BTS's
	// probabilities are estimated separately (NewWindowPolicy); 0 or 1 estimates them over the
	// whole log (FrequencyPolicy).
	Windows int
}

// Evaluate estimates both directions of a campaign. The keys of the result are RandomToBTS and
// BTSToRandom.
func Evaluate(ctx context.Context, c *Campaign, opt Options) (map[string]Direction, error) {
	logger := opt.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if err := c.CheckRandom(); err != nil {
		return nil, err
	}
	randomLog, btsLog := ToLog(c.Random, c.Items), ToLog(c.BTS, c.Items)
	span := SpanOf(opt.Windows, c.Random, c.BTS)
	btsProb := "share of the BTS log's impressions at the row's position that showed the item, over the whole log"
	buildBTS := func(src []Record) (ope.Distribution, error) {
		if opt.Windows <= 1 {
			return FrequencyPolicy(src, c.Items)
		}
		return NewWindowPolicy(src, c.Random, c.Items, span)
	}
	if opt.Windows > 1 {
		btsProb = fmt.Sprintf("share of the BTS log's impressions at the row's position that showed the item, in the row's time window (%d equal windows from %s to %s)",
			opt.Windows, span.From.UTC().Format(time.RFC3339), span.To.UTC().Format(time.RFC3339))
	}
	bts, err := buildBTS(c.BTS)
	if err != nil {
		return nil, fmt.Errorf("campaign %s: %w", c.Name, err)
	}
	out := map[string]Direction{}
	for _, d := range []struct {
		name, log, target, prob string
		l, own                  *ope.Log
		pi                      ope.Distribution
	}{
		{RandomToBTS, PolicyRandom, PolicyBTS, btsProb, randomLog, btsLog, bts},
		{BTSToRandom, PolicyBTS, PolicyRandom, fmt.Sprintf("uniform, 1/%d", c.Items), btsLog, randomLog, ope.Uniform{Actions: c.Items}},
	} {
		rep, err := ope.Evaluate(ctx, d.l, d.pi, opt.Options)
		if err != nil {
			return nil, fmt.Errorf("campaign %s, %s: %w", c.Name, d.name, err)
		}
		on, err := ope.OnPolicy(ctx, d.own, opt.Options)
		if err != nil {
			return nil, fmt.Errorf("campaign %s, %s on-policy: %w", c.Name, d.target, err)
		}
		dir := Direction{Log: d.log, Target: d.target, Report: rep, OnPolicy: on, TargetProb: d.prob}
		if d.name == RandomToBTS && opt.PolicyResamples > 0 {
			sd, err := PolicySD(ctx, d.l, c.BTS, buildBTS, opt.PolicyResamples, opt.Options)
			if err != nil {
				return nil, fmt.Errorf("campaign %s, %s, policy uncertainty: %w", c.Name, d.name, err)
			}
			dir.PolicySD = &sd
		}
		logger.Info("off-policy evaluation", "campaign", c.Name, "direction", d.name,
			"ips", rep.IPS.Value, "snips", rep.SNIPS.Value, "dr", rep.DR.Value, "on_policy", on.Value)
		out[d.name] = dir
	}
	return out, nil
}

// estimateJSON is an estimate as a direction writes it, with whether its interval covers the
// target's on-policy value.
type estimateJSON struct {
	ope.Estimate
	CoversOnPolicy bool         `json:"covers_on_policy"`
	DiffCI         ope.Interval `json:"diff_ci"`
	PolicySD       *float64     `json:"target_prob_sd,omitempty"`
}

// MarshalJSON writes {"ips": E, "snips": E, "dr": E, "on_policy": x, "on_policy_ci": [lo, hi],
// "on_policy_n": n, "log": …, "target": …, "target_prob": …}, each E being {"value": x,
// "ci": [lo, hi], …, "covers_on_policy": bool, "diff_ci": [lo, hi]} with diff_ci the interval of
// the estimate minus the on-policy value (ope.Difference).
func (d Direction) MarshalJSON() ([]byte, error) {
	out := map[string]any{
		"on_policy":    d.OnPolicy.Value,
		"on_policy_ci": d.OnPolicy.CI,
		"on_policy_n":  d.OnPolicy.N,
		"log":          d.Log,
		"target":       d.Target,
		"target_prob":  d.TargetProb,
	}
	if d.OnPolicy.Bootstrap != nil {
		out["on_policy_bootstrap_ci"] = *d.OnPolicy.Bootstrap
	}
	for j, e := range d.Estimates() {
		ej := estimateJSON{Estimate: e, CoversOnPolicy: e.CI.Contains(d.OnPolicy.Value), DiffCI: ope.Difference(e, d.OnPolicy)}
		if d.PolicySD != nil {
			ej.PolicySD = &d.PolicySD[j]
		}
		out[e.Estimator] = ej
	}
	return json.Marshal(out)
}
