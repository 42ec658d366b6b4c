package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/cascade-rec/cascade/coat"
)

// coatCmd measures selection bias on Coat: explicit MF trained on the self-selected (MNAR) train
// ratings, naive and inverse-propensity weighted, evaluated on the uniformly random (MAR) test
// ratings.
type coatCmd struct {
	Data        string  `required:"" type:"existingdir" help:"Coat directory (train.ascii, test.ascii, propensities.ascii)."`
	JSON        string  `name:"json" type:"path" help:"Write {naive|ips: {ratings: {mse, mae, n}}, chosen: {naive|ips: {config, validation_mse}}, split} to this file."`
	Holdout     float64 `default:"0.2" help:"Share of the train ratings held out to choose hyperparameters (the test ratings are never used for that)."`
	NoNormalise bool    `help:"Keep the raw inverse propensities as weights instead of scaling them to average 1."`
	Seed        uint64  `default:"1" help:"Seed of the validation split and the factor initialisation."`
}

// Run loads Coat, runs the experiment, prints the table and writes the JSON.
func (c *coatCmd) Run(g *Globals) error {
	if !coat.Detect(c.Data) {
		return fmt.Errorf("--data %s: no Coat files (%s, %s, %s)", c.Data, coat.TrainFile, coat.TestFile, coat.PropensitiesFile)
	}
	d, err := coat.Load(c.Data)
	if err != nil {
		return err
	}
	g.Log.Info("coat loaded", "train", len(d.Train), "test", len(d.Test))
	rep, err := coat.Run(g.Ctx, d, coat.Options{Grid: coat.DefaultGrid, Holdout: c.Holdout, Normalise: !c.NoNormalise, Seed: c.Seed})
	if err != nil {
		return err
	}
	writeCoatTable(g.Stdout, rep)
	if c.JSON != "" {
		return g.writeJSON(c.JSON, rep)
	}
	return nil
}

// writeCoatTable prints one line per model with its test errors beside the paper's MSE.
func writeCoatTable(w io.Writer, rep *coat.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\ttest MSE\ttest MAE\tpaper MSE (Schnabel et al. 2016)\tfactors\tλ\titerations\tvalidation MSE")
	for _, row := range []struct {
		name  string
		res   coat.Result
		paper float64
	}{{"naive", rep.Naive, 1.202}, {"ips", rep.IPS, 1.093}} {
		ch := rep.Chosen[row.name]
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.3f\t%d\t%g\t%d\t%.4f\n", row.name, row.res.Ratings.MSE, row.res.Ratings.MAE, row.paper,
			ch.Config.Factors, ch.Config.Lambda, ch.Config.Iterations, ch.Validation)
	}
	tw.Flush()
}
