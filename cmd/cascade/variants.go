package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/ope"
	"github.com/cascade-rec/cascade/servedlog"
)

// variantsCmd compares the variants of a served log: each variant's click rates with intervals
// over its users, and each one's difference from the control.
type variantsCmd struct {
	ServedLog []string      `required:"" name:"served-log" sep:"," type:"existingfile" help:"Served-log files (JSON lines: serve's --served-log, simulate's round logs); repeat or separate with commas."`
	Events    string        `type:"existingdir" help:"A data set directory (e.g. an events.csv of the clicks POSTed to /v1/events) whose events are the outcomes: a shown item counts as clicked when its user has an event on it within --horizon after it was served. Without it, the log's own click outcomes (simulate writes them)."`
	Horizon   time.Duration `default:"30m" help:"How long after serving an event counts as a click on a shown item (with --events)."`
	Control   string        `help:"The control variant (default: the first name in order)."`
	Level     float64       `default:"0.95" help:"Confidence level of the intervals."`
	Bootstrap int           `default:"1000" help:"Percentile-bootstrap resamples of users (reported beside the normal intervals; 0 for none)."`
	Seed      uint64        `default:"1" help:"Seed of the bootstrap."`
	JSON      string        `name:"json" type:"path" help:"Write {control, level, variants: [{name, users, requests, shown, clicks, click_rate: {value, ci, …}, request_click_rate, diff_ci, request_diff_ci}], skipped}."`
}

// Run reads the logs, attributes clicks when --events is given, and compares the variants.
func (c *variantsCmd) Run(g *Globals) error {
	if !(c.Level > 0 && c.Level < 1) || c.Bootstrap < 0 || c.Horizon <= 0 {
		return fmt.Errorf("variants: --level must be in (0, 1), --bootstrap ≥ 0 and --horizon positive")
	}
	var entries []servedlog.Entry
	for _, path := range c.ServedLog {
		es, err := servedlog.ReadFile(path)
		if err != nil {
			return err
		}
		entries = append(entries, es...)
	}
	if c.Events != "" {
		ds, err := dataset.Load(c.Events, dataset.LoadOptions{Logger: g.Log})
		if err != nil {
			return err
		}
		events := map[[2]string][]int64{}
		for _, e := range ds.Events {
			k := [2]string{ds.Users.String(e.User), ds.Items.String(e.Item)}
			events[k] = append(events[k], e.Time)
		}
		servedlog.AttributeClicks(entries, events, c.Horizon)
	}
	rep, err := servedlog.CompareVariants(g.Ctx, entries, c.Control, ope.Options{Level: c.Level, Bootstrap: c.Bootstrap, Seed: c.Seed, Logger: g.Log})
	if err != nil {
		return err
	}
	writeVariantsTable(g.Stdout, rep)
	if c.JSON == "" {
		return nil
	}
	return g.writeJSON(c.JSON, rep)
}

// writeVariantsTable prints one line per variant: rates with intervals, differences from the
// control.
func writeVariantsTable(w io.Writer, rep *servedlog.VariantReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	pct := fmt.Sprintf("%g%%", rep.Level*100)
	fmt.Fprintf(tw, "variant\tusers\trequests\tshown\tclicks\tclick rate [%s]\tvs %s\trequests with a click [%s]\tvs %s\n", pct, rep.Control, pct, rep.Control)
	iv := func(e ope.Estimate) string { return fmt.Sprintf("%.5f [%.5f, %.5f]", e.Value, e.CI.Lo, e.CI.Hi) }
	diff := func(d *ope.Interval) string {
		if d == nil {
			return "control"
		}
		return fmt.Sprintf("[%+.5f, %+.5f]", d.Lo, d.Hi)
	}
	for _, v := range rep.Variants {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", v.Name, v.Users, v.Requests, v.Shown, v.Clicks,
			iv(v.ClickRate), diff(v.DiffCI), iv(v.RequestClickRate), diff(v.RequestDiffCI))
	}
	tw.Flush()
	if rep.Skipped > 0 {
		fmt.Fprintf(w, "%d entries without a variant or click outcomes skipped\n", rep.Skipped)
	}
}
