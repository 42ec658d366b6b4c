package main

import (
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/cascade-rec/cascade/internal/usage"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
)

type trainCmd struct {
	Config string `required:"" help:"Pipeline file (a path, or the name of an embedded example such as ials.yaml)."`
	dataFlag
	Out     string `required:"" help:"Directory for the model bundle (artifacts + manifest.json)."`
	Workers int    `help:"Parallel workers (0: GOMAXPROCS)."`
	Cache   string `help:"Model cache directory: first-stage models already trained there (same window, parameters and binary) are loaded, not trained again; new ones are added."`
	protocolFlag
	malformedFlag
}

func (c *trainCmd) Run(g *Globals) error {
	start := usage.Now()
	ev, err := openEvaluation(g, c.Config, c.Data, c.malformedFlag, c.Protocol)
	if err != nil {
		return err
	}
	load := usage.Since(start)
	cfg := ev.cfg
	opt := pipeline.Options{Logger: g.Log, Progress: progress.Options{Disabled: g.NoProgress, Logger: g.Log}, Workers: c.Workers}
	if c.Cache != "" {
		if opt.Cache, err = pipeline.OpenModelCache(c.Cache); err != nil {
			return err
		}
	}
	man, err := pipeline.Train(g.Ctx, ev.cfg, ev.data, c.Out, opt)
	if err != nil {
		return err
	}
	if opt.Cache != nil {
		hits, misses := opt.Cache.Stats()
		fmt.Fprintf(g.Stdout, "model cache %s: %d loaded, %d trained\n", c.Cache, hits, misses)
	}
	if err := printTrained(g, cfg, man, c.Out, ev.protocol); err != nil {
		return err
	}
	return printCosts(g, load, man.Costs)
}

// printCosts prints what each stage of the run used: loading the data, then the training stages
// the manifest records (costs).
func printCosts(g *Globals, load usage.Cost, costs []pipeline.StageCost) error {
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage	wall s	cpu s	peak RSS MB	")
	fmt.Fprintf(tw, "load data	%.2f	%.2f	%.0f	\n", load.Wall.Seconds(), load.CPU.Seconds(), usage.MB(load.PeakRSS))
	for _, c := range costs {
		fmt.Fprintf(tw, "%s	%.2f	%.2f	%.0f	\n", c.Stage, c.WallSeconds, c.CPUSeconds, c.PeakRSSMB)
	}
	return tw.Flush()
}

// printTrained prints what train chose: per model and ranker its type, training time and
// parameters (name=value; "tuned" says which grid the validation split chose from), then the
// ranking stacks validation compared.
func printTrained(g *Globals, cfg *pipeline.Config, man *pipeline.Manifest, out, protocol string) error {
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "model\ttype\ttrain s\tparameters")
	row := func(name string, e *pipeline.ModelEntry) {
		params := pipeline.Trial{Values: e.Chosen}.Label()
		if params == "" {
			params = "(defaults)"
		}
		switch n := len(e.Trials); {
		case e.Strategy == pipeline.StrategyHalving:
			params += fmt.Sprintf("   (successive halving: %d trials on the validation split by %s, %d budget units)", n, cfg.Tuning.Metric, e.TuningBudget)
		case n > 1:
			params += fmt.Sprintf("   (best of %d on the validation split by %s)", n, cfg.Tuning.Metric)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\n", name, e.Type, e.TrainSeconds, params)
	}
	for _, name := range sortedKeys(man.Models) {
		row(name, man.Models[name])
	}
	for _, name := range man.RankerStack {
		row(name, man.Rankers[name])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if sel := man.StackSelection; sel != nil {
		fmt.Fprintf(g.Stdout, "ranking stacks on the validation split (%s):\n", cfg.Tuning.Metric)
		for _, tr := range sel.Trials {
			mark := " "
			if tr.Stack == sel.Chosen {
				mark = "*"
			}
			fmt.Fprintf(g.Stdout, "  %s %.5f  %s\n", mark, tr.Metrics[cfg.Tuning.Metric], tr.Stack)
		}
	}
	fmt.Fprintf(g.Stdout, "bundle (%s) written to %s\n", protocol, filepath.Join(out, "manifest.json"))
	return nil
}
