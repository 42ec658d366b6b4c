package main

import (
	"fmt"
	"path/filepath"

	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
)

type trainCmd struct {
	Config  string `required:"" help:"Pipeline file (a path, or the name of an embedded example such as ials.yaml)."`
	Data    string `help:"Data set directory; overrides the file's dataset.path."`
	Out     string `required:"" help:"Directory for the model bundle (artifacts + manifest.json)."`
	Workers int    `help:"Parallel workers (0: GOMAXPROCS)."`
	Cache   string `help:"Model cache directory: first-stage models already trained there (same window, parameters and binary) are loaded, not trained again; new ones are added."`
}

func (c *trainCmd) Run(g *Globals) error {
	cfg, err := loadConfig(c.Config)
	if err != nil {
		return err
	}
	ds, err := cfg.LoadData(g.Ctx, c.Data, cacheDir(), g.Log)
	if err != nil {
		return err
	}
	opt := pipeline.Options{Logger: g.Log, Progress: progress.Options{Disabled: g.NoProgress, Logger: g.Log}, Workers: c.Workers}
	if c.Cache != "" {
		if opt.Cache, err = pipeline.OpenModelCache(c.Cache); err != nil {
			return err
		}
	}
	man, err := pipeline.Train(g.Ctx, cfg, ds, c.Out, opt)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(man.Models) {
		e := man.Models[name]
		fmt.Fprintf(g.Stdout, "%-12s %-11s %6.2fs  %v\n", name, e.Type, e.TrainSeconds, e.Chosen)
	}
	for _, name := range man.RankerStack {
		e := man.Rankers[name]
		fmt.Fprintf(g.Stdout, "%-12s %-11s %6.2fs  %v\n", name, e.Type, e.TrainSeconds, e.Chosen)
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
	if opt.Cache != nil {
		hits, misses := opt.Cache.Stats()
		fmt.Fprintf(g.Stdout, "model cache %s: %d loaded, %d trained\n", c.Cache, hits, misses)
	}
	fmt.Fprintf(g.Stdout, "bundle written to %s\n", filepath.Join(c.Out, "manifest.json"))
	return nil
}
