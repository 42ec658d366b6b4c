package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"

	"github.com/cascade-rec/cascade/ope"
	"github.com/cascade-rec/cascade/ope/openbandit"
)

// opeCmd runs off-policy evaluation on the Open Bandit Dataset: each campaign's BTS policy
// estimated from the random log and the random policy from the BTS log, beside their own logged
// click rates.
type opeCmd struct {
	Data            string   `required:"" type:"existingdir" help:"Open Bandit Dataset directory (random/C/C.csv, bts/C/C.csv and their item_context.csv per campaign C)."`
	JSON            string   `name:"json" type:"path" help:"Write the results to this file: {campaign: {random_to_bts|bts_to_random: {ips|snips|dr: {value, ci, …}, on_policy, on_policy_ci, …}}}."`
	Campaign        []string `help:"Campaigns to evaluate (default: every one with both logs)."`
	Clip            float64  `default:"0" help:"Largest importance weight (weights above are clipped); 0 turns clipping off."`
	Level           float64  `default:"0.95" help:"Confidence level of the intervals."`
	Folds           int      `default:"5" help:"Cross-fitting folds of the doubly robust estimator's direct model."`
	Bootstrap       int      `default:"1000" help:"Percentile-bootstrap resamples (reported beside the normal intervals; 0 for none)."`
	PolicyResamples int      `default:"100" help:"Resamples of the BTS log used to measure the uncertainty of its estimated probabilities (0 skips it)."`
	Windows         int      `default:"1" help:"Estimate the BTS policy's probabilities separately in this many equal time windows of the week (1: over the whole log)."`
	Seed            uint64   `default:"1" help:"Seed of the cross-fitting folds and the resamples."`
}

// Validate checks the flags before anything runs.
func (c *opeCmd) Validate() error {
	var errs []error
	if math.IsNaN(c.Clip) || c.Clip < 0 {
		errs = append(errs, fmt.Errorf("--clip must be 0 (off) or positive, got %g", c.Clip))
	}
	if !(c.Level > 0 && c.Level < 1) {
		errs = append(errs, fmt.Errorf("--level must be in (0, 1), got %g", c.Level))
	}
	if c.Folds < 2 {
		errs = append(errs, fmt.Errorf("--folds must be at least 2, got %d", c.Folds))
	}
	if c.Bootstrap < 0 {
		errs = append(errs, fmt.Errorf("--bootstrap must not be negative, got %d", c.Bootstrap))
	}
	if c.Windows < 1 {
		errs = append(errs, fmt.Errorf("--windows must be at least 1, got %d", c.Windows))
	}
	if c.PolicyResamples < 0 {
		errs = append(errs, fmt.Errorf("--policy-resamples must not be negative, got %d", c.PolicyResamples))
	}
	return errors.Join(errs...)
}

// Run evaluates every campaign, prints the table and writes the JSON.
func (c *opeCmd) Run(g *Globals) error {
	campaigns, err := openbandit.Campaigns(c.Data)
	if err != nil {
		return err
	}
	if len(c.Campaign) > 0 {
		for _, name := range c.Campaign {
			if !slices.Contains(campaigns, name) {
				return fmt.Errorf("--campaign %s: not in %s (found %v)", name, c.Data, campaigns)
			}
		}
		campaigns = c.Campaign
	}
	opt := openbandit.Options{
		Options:         ope.Options{Clip: c.Clip, Level: c.Level, Folds: c.Folds, Bootstrap: c.Bootstrap, Seed: c.Seed, Logger: g.Log},
		PolicyResamples: c.PolicyResamples,
		Windows:         c.Windows,
	}
	results := map[string]map[string]openbandit.Direction{}
	for _, name := range campaigns {
		camp, err := openbandit.LoadCampaign(c.Data, name)
		if err != nil {
			return err
		}
		g.Log.Info("campaign loaded", "campaign", name, "items", camp.Items, "random_rows", len(camp.Random), "bts_rows", len(camp.BTS))
		if results[name], err = openbandit.Evaluate(g.Ctx, camp, opt); err != nil {
			return err
		}
	}
	writeOPETable(g.Stdout, campaigns, results, c.Level)
	if c.JSON != "" {
		return g.writeJSON(c.JSON, results)
	}
	return nil
}

// writeOPETable prints one line per campaign, direction and estimator: the estimate and its
// interval beside the target policy's on-policy value and interval, and whether the estimate's
// interval covers the on-policy value, and the interval of their difference (which also counts
// the on-policy value's own noise).
func writeOPETable(w io.Writer, campaigns []string, results map[string]map[string]openbandit.Direction, level float64) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	pct := fmt.Sprintf("%g%%", 100*level)
	fmt.Fprintf(tw, "campaign\tdirection\testimator\testimate\t%s interval\tbootstrap\ton-policy\t%s interval\tcovers\testimate − on-policy\tESS\tmax weight\tclipped\n", pct, pct)
	for _, name := range campaigns {
		for _, dir := range []string{openbandit.RandomToBTS, openbandit.BTSToRandom} {
			d := results[name][dir]
			for _, e := range d.Estimates() {
				boot := "-"
				if e.Bootstrap != nil {
					boot = fmtInterval(*e.Bootstrap)
				}
				covers := "no"
				if e.CI.Contains(d.OnPolicy.Value) {
					covers = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%.5f\t%s\t%s\t%.5f\t%s\t%s\t%s\t%.0f\t%.1f\t%d\n", name, dir, e.Estimator, e.Value,
					fmtInterval(e.CI), boot, d.OnPolicy.Value, fmtInterval(d.OnPolicy.CI), covers, fmtInterval(ope.Difference(e, d.OnPolicy)), e.ESS, e.MaxWeight, e.Clipped)
			}
		}
	}
	tw.Flush()
}

func fmtInterval(iv ope.Interval) string { return fmt.Sprintf("[%.5f, %.5f]", iv.Lo, iv.Hi) }
