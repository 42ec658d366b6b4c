package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/replay"
)

type demoCmd struct {
	Config []string `default:"popularity.yaml,ials.yaml,demo.yaml" sep:"," help:"Pipeline files to train and replay side by side (default: popularity, iALS and the full design at demo size, all embedded)."`
	Data   string   `help:"Data set directory (default: the file's synthetic world)."`
	Keep   string   `help:"Keep the trained bundle in this directory instead of a temporary one."`
	Serve  string   `default:"127.0.0.1:8080" help:"After the table, serve the last pipeline on this address until interrupted (Ctrl-C), printing a ready curl line; empty to stop after the table."`
}

// Run trains the pipelines on an embedded default (a generated synthetic world) and replays them
// side by side.
func (c *demoCmd) Run(g *Globals) error {
	dir := c.Keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cascade-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	names := c.Config
	var reps []*replay.Report
	var labels []string
	for _, name := range names {
		cfg, err := loadConfig(name)
		if err != nil {
			return err
		}
		ds, err := cfg.LoadData(g.Ctx, c.Data, dir, g.Log) // the world is generated in the demo's directory
		if err != nil {
			return err
		}
		out := filepath.Join(dir, cfg.Name)
		if _, err := pipeline.Train(g.Ctx, cfg, ds, out, pipeline.Options{Logger: g.Log, Progress: progress.Options{Disabled: g.NoProgress, Logger: g.Log}}); err != nil {
			return err
		}
		ev, err := newEvaluation(replay.Protocol, cfg, ds)
		if err != nil {
			return err
		}
		rep, err := runReplay(g, ev, out, 0, 0, 0)
		if err != nil {
			return err
		}
		reps = append(reps, rep)
		labels = append(labels, cfg.Name)
	}
	fmt.Fprintf(g.Stdout, "replay-v1 on %s\n", reps[0].Dataset)
	if err := replay.WriteTable(g.Stdout, labels, reps); err != nil || c.Serve == "" {
		return err
	}
	return serveDemo(g, names[len(names)-1], c.Data, dir, c.Serve)
}
