package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/cascade-rec/cascade/pipeline"
)

// ratingsFiles loads the pipeline files when they are ratings files (explicit_mf, read on Coat)
// and returns nil when they are ranking files; a mix cannot share one table.
func ratingsFiles(files []string) ([]*pipeline.Config, error) {
	var cfgs []*pipeline.Config
	ratings := 0
	for _, f := range files {
		cfg, err := loadConfig(f)
		if err != nil {
			return nil, err
		}
		if cfg.IsRatings() {
			ratings++
		}
		cfgs = append(cfgs, cfg)
	}
	switch ratings {
	case 0:
		return nil, nil
	case len(cfgs):
		return cfgs, nil
	}
	return nil, fmt.Errorf("replay: %d of the %d files are ratings files (explicit_mf) and the others ranking pipelines; compare like with like", ratings, len(cfgs))
}

// replayRatings evaluates ratings files: each model is trained (its grid chosen on a holdout of
// the training ratings) and judged on the test ratings; one table, and the JSON report.
func (c *replayCmd) replayRatings(g *Globals, cfgs []*pipeline.Config) error {
	if c.Protocol != "replay-v1" {
		return fmt.Errorf("replay: --protocol %s does not apply to ratings files, whose test ratings are fixed by the data set", c.Protocol)
	}
	if c.Report != "" {
		return fmt.Errorf("replay: --report plots ranking metrics; ratings files have none (their table and --json hold the errors)")
	}
	if c.Models != "" {
		g.Log.Warn("--models is not used: replay trains ratings files itself", "models", c.Models)
	}
	var reps []*pipeline.RatingsReport
	for _, cfg := range cfgs {
		rep, err := pipeline.EvaluateRatings(g.Ctx, cfg, c.Data)
		if err != nil {
			return err
		}
		g.Log.Info("ratings evaluated", "pipeline", rep.Pipeline, "mse", rep.Ratings.MSE, "chosen", rep.Values, "trials", rep.Chosen.Trials)
		reps = append(reps, rep)
	}
	writeRatingsTable(g.Stdout, reps)
	if c.JSON == "" {
		return nil
	}
	var v any = reps[0]
	if len(c.Compare) > 0 {
		m := map[string]*pipeline.RatingsReport{}
		for _, r := range reps {
			m[r.Pipeline] = r
		}
		v = m
	}
	return g.writeJSON(c.JSON, v)
}

// writeRatingsTable prints one line per ratings file: its test errors and the chosen grid point.
func writeRatingsTable(w io.Writer, reps []*pipeline.RatingsReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "pipeline\tweighting\ttest MSE\ttest MAE\ttest n\tvalidation MSE\ttrials\tchosen")
	for _, r := range reps {
		fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.4f\t%d\t%.4f\t%d\t%s\n", r.Pipeline, r.Weighting, r.Ratings.MSE, r.Ratings.MAE, r.Ratings.N,
			r.Chosen.Validation, r.Chosen.Trials, r.Values)
	}
	tw.Flush()
}
