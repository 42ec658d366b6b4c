package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/usage"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/replay"
	"github.com/cascade-rec/cascade/replay/report"
)

type replayCmd struct {
	Config  string   `help:"Pipeline file the bundle was trained from."`
	Compare []string `help:"Replay several pipeline files side by side (repeat the flag or separate with commas); the bundle of NAME.yaml is MODELS/NAME, trained first when absent, sharing first-stage models through MODELS/.cache." sep:","`
	dataFlag
	Models  string `help:"Model bundle directory written by 'cascade train' (with --compare: the directory holding one bundle per file). Ratings files (explicit_mf, e.g. coat-ips.yaml) take none: replay trains them."`
	JSON    string `name:"json" help:"Write the replay-v1 JSON report to this file (with --compare: one JSON object keyed by pipeline name); a ratings file's report has its test errors under \"ratings\": {mse, mae, n}."`
	Report  string `help:"Write a Markdown report with PNG plots (ndcg@K per configuration, recall@N per stage) to this directory."`
	Workers int    `help:"Parallel workers (0: GOMAXPROCS)."`
	Sample  int    `help:"Replay a uniform random sample of N counted steps (0: every step); every figure gets its 95% interval (table and JSON \"ci\")."`
	Seed    uint64 `default:"1" help:"Seed of --sample: the same seed draws the same steps of the same split (so --compare judges every pipeline on the same steps)."`
	protocolFlag
	malformedFlag
}

// Validate checks the flags before anything runs.
func (c *replayCmd) Validate() error {
	if c.Sample < 0 {
		return fmt.Errorf("--sample must be a positive number of steps (or 0 for every step), got %d", c.Sample)
	}
	return nil
}

func (c *replayCmd) Run(g *Globals) error {
	files := c.Compare
	if c.Config != "" {
		files = append([]string{c.Config}, files...)
	}
	if len(files) == 0 {
		return errors.New("replay: give --config FILE or --compare A.yaml,B.yaml")
	}
	if ratings, err := ratingsFiles(files); err != nil {
		return err
	} else if ratings != nil {
		if c.Sample > 0 {
			return errors.New("replay: --sample samples replay steps, and a ratings file has none (its test ratings are all scored)")
		}
		return c.replayRatings(g, ratings)
	}
	if c.Models == "" {
		return errors.New("replay: --models is required: the bundle directory 'cascade train' wrote")
	}
	compare := len(c.Compare) > 0
	var cache *pipeline.ModelCache
	if compare {
		// The files of a comparison share their first stages: each model is trained once.
		var err error
		if cache, err = pipeline.OpenModelCache(filepath.Join(c.Models, ".cache")); err != nil {
			return err
		}
	}
	var names []string
	var reps []*replay.Report
	for _, file := range files {
		ev, err := openEvaluation(g, file, c.Data, c.malformedFlag, c.Protocol)
		if err != nil {
			return err
		}
		cfg := ev.cfg
		dir := c.Models
		if compare {
			dir = filepath.Join(c.Models, cfg.Name)
			if _, err := os.Stat(filepath.Join(dir, "manifest.json")); errors.Is(err, fs.ErrNotExist) {
				g.Log.Info("no bundle yet: training", "pipeline", cfg.Name, "protocol", ev.protocol, "out", dir)
				if _, err := pipeline.Train(g.Ctx, ev.cfg, ev.data, dir, pipeline.Options{Logger: g.Log, Progress: progress.Options{Disabled: g.NoProgress, Logger: g.Log}, Workers: c.Workers, Cache: cache}); err != nil {
					return err
				}
			}
		}
		rep, err := runReplay(g, ev, dir, c.Workers, c.Sample, c.Seed)
		if err != nil {
			return err
		}
		names = append(names, cfg.Name)
		reps = append(reps, rep)
	}
	if err := replay.WriteTable(g.Stdout, names, reps); err != nil {
		return err
	}
	if c.JSON != "" {
		var v any = reps[0]
		if compare {
			m := map[string]*replay.Report{}
			for i, n := range names {
				m[n] = reps[i]
			}
			v = m
		}
		if err := g.writeJSON(c.JSON, v); err != nil {
			return err
		}
	}
	if c.Report != "" {
		if err := report.Write(c.Report, names, reps); err != nil {
			return err
		}
		fmt.Fprintf(g.Stdout, "report written to %s\n", filepath.Join(c.Report, "report.md"))
	}
	return nil
}

// runReplay replays the evaluation's split through the bundle in dir.
// sample > 0 replays that many steps drawn with seed (replay.Options.Sample).
func runReplay(g *Globals, ev *evaluation, dir string, workers, sample int, seed uint64) (*replay.Report, error) {
	start := usage.Now()
	p, err := pipeline.Open(ev.cfg, dir, ev.data)
	if err != nil {
		return nil, protocolHint(err, dir, ev.protocol)
	}
	logCost(g, "open bundle", start)
	start = usage.Now()
	defer logCost(g, "replay", start)
	return replay.Run(g.Ctx, ev.split, p.Replay(), replay.Options{
		Dataset:  ev.dataset,
		Protocol: ev.protocol,
		ItemIDs:  ev.data.Items.IDs(),
		Workers:  workers,
		Progress: progress.Options{Disabled: g.NoProgress, Logger: g.Log},
		Sample:   sample,
		Seed:     seed,
		// A slice per event type (purchases predicted, say); nothing for data without types.
		EventTypes: eventTypeNames(ev.data),
	})
}

func eventTypeNames(ds *dataset.Dataset) []string {
	if ds.EventTypes == nil {
		return nil
	}
	return ds.EventTypes.IDs()
}

// logCost logs what the stage that began at start used (wall, CPU, the process's peak RSS).
func logCost(g *Globals, stage string, start usage.Sample) {
	g.Log.Info("stage cost", append([]any{"stage", stage}, usage.Since(start).Attrs()...)...)
}

// protocolHint adds to a bundle's refusal which protocol it was trained for, when that is the
// reason: a leave-one-out bundle's data set is named NAME/loo.
func protocolHint(err error, dir, protocol string) error {
	man, merr := pipeline.ReadManifest(dir)
	if merr != nil {
		return err
	}
	trainedLOO := strings.HasSuffix(man.Dataset.Name, "/"+replay.ProtocolLOO)
	switch {
	case trainedLOO && protocol != replay.ProtocolLOO:
		return fmt.Errorf("%w (the bundle was trained for --protocol loo)", err)
	case !trainedLOO && protocol == replay.ProtocolLOO:
		return fmt.Errorf("%w (a leave-one-out replay needs a bundle trained with --protocol loo)", err)
	}
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
