package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/cascade-rec/cascade/pipeline"
)

// coatCmd measures selection bias on Coat: ratings files (by default the embedded coat-naive.yaml
// and coat-ips.yaml) run side by side, as `cascade replay` runs each, with the paper's figures
// beside them.
type coatCmd struct {
	Data    string   `required:"" type:"existingdir" help:"Coat directory (train.ascii, test.ascii, propensities.ascii)."`
	Config  []string `default:"coat-naive.yaml,coat-ips.yaml" sep:"," help:"Ratings files to run (paths or embedded examples)."`
	JSON    string   `name:"json" type:"path" help:"Write {naive|ips: the replay report of each file, keyed by its weighting} to this file (the last file of a weighting wins)."`
	Holdout *float64 `help:"Share of the train ratings held out to choose hyperparameters (the files' ratings.holdout; the test ratings are never used for that)."`
	Seed    *uint64  `help:"Seed of the validation split (the files' ratings.seed)."`
}

// paperMSE is Schnabel et al. (2016), Table 1: MF on Coat, test MSE.
var paperMSE = map[string]float64{"naive": 1.202, "ips": 1.093}

// Run evaluates both files on Coat, prints the table and writes the JSON.
func (c *coatCmd) Run(g *Globals) error {
	reps := map[string]*pipeline.RatingsReport{}
	var order []*pipeline.RatingsReport
	for _, name := range c.Config {
		cfg, err := loadConfig(name)
		if err != nil {
			return err
		}
		if c.Holdout != nil {
			cfg.Ratings.Holdout = *c.Holdout
		}
		if c.Seed != nil {
			cfg.Ratings.Seed = *c.Seed
		}
		if !cfg.IsRatings() {
			return fmt.Errorf("coat: %s is not a ratings file (explicit_mf)", name)
		}
		rep, err := pipeline.EvaluateRatings(g.Ctx, cfg, c.Data)
		if err != nil {
			return err
		}
		reps[rep.Weighting] = rep
		order = append(order, rep)
	}
	writeCoatTable(g.Stdout, order)
	if c.JSON == "" {
		return nil
	}
	return g.writeJSON(c.JSON, reps)
}

// writeCoatTable prints one line per model with its test errors beside the paper's MSE.
func writeCoatTable(w io.Writer, reps []*pipeline.RatingsReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\ttest MSE\ttest MAE\tpaper MSE (Schnabel et al. 2016)\tvalidation MSE\tchosen")
	for _, r := range reps {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.3f\t%.4f\t%s\n", r.Weighting, r.Ratings.MSE, r.Ratings.MAE, paperMSE[r.Weighting], r.Chosen.Validation, r.Values)
	}
	tw.Flush()
}
