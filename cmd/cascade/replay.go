package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/replay"
)

type replayCmd struct {
	Config  string `required:"" help:"Pipeline file the bundle was trained from."`
	Data    string `help:"Data set directory; overrides the file's dataset.path."`
	Models  string `required:"" help:"Model bundle directory written by 'cascade train'."`
	JSON    string `name:"json" help:"Write the replay-v1 JSON report to this file."`
	Workers int    `help:"Parallel workers (0: GOMAXPROCS)."`
}

func (c *replayCmd) Run(g *Globals) error {
	cfg, err := loadConfig(c.Config)
	if err != nil {
		return err
	}
	ds, err := cfg.LoadData(g.Ctx, c.Data, cacheDir(), g.Log)
	if err != nil {
		return err
	}
	rep, err := runReplay(g, cfg, ds, c.Models, c.Workers)
	if err != nil {
		return err
	}
	if err := replay.WriteTable(g.Stdout, []string{cfg.Name}, []*replay.Report{rep}); err != nil {
		return err
	}
	if c.JSON != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.JSON, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("replay report: %w", err)
		}
	}
	return nil
}

// runReplay replays the test split of ds through the bundle in dir.
func runReplay(g *Globals, cfg *pipeline.Config, ds *dataset.Dataset, dir string, workers int) (*replay.Report, error) {
	p, err := pipeline.Open(cfg, dir, ds)
	if err != nil {
		return nil, err
	}
	split := dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)
	return replay.Run(g.Ctx, split, p.Replay(), replay.Options{
		Dataset:  ds.Name,
		ItemIDs:  ds.Items.IDs(),
		Fallback: p.FallbackReplay(),
		Workers:  workers,
		Progress: progress.Options{Disabled: g.NoProgress, Logger: g.Log},
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
