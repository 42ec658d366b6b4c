package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/synth"
)

// LoadData loads the pipeline's data set: dir when not empty (the --data flag), else the file's
// dataset.path (relative to the pipeline file), else the synthetic world of dataset.synthetic,
// generated once into cacheDir (a temporary directory when cacheDir is empty).
func (c *Config) LoadData(ctx context.Context, dir, cacheDir string, log *slog.Logger) (*dataset.Dataset, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := c.notRatings("load data"); err != nil {
		return nil, err
	}
	opt := dataset.LoadOptions{Format: c.Dataset.Format, SkipMalformed: c.Dataset.SkipMalformed, Logger: log, DropTypes: c.Events.dropped()}
	if dir = c.dataDir(dir); dir != "" {
		ds, err := dataset.Load(dir, opt)
		if err != nil {
			return nil, err
		}
		return c.loaded(ds, log)
	}
	s := c.Dataset.Synthetic
	if cacheDir == "" {
		tmp, err := os.MkdirTemp("", "cascade-synth-")
		if err != nil {
			return nil, err
		}
		cacheDir = tmp
	}
	world := filepath.Join(cacheDir, fmt.Sprintf("synthetic-u%d-i%d-e%d-s%d", s.Users, s.Items, s.Events, s.Seed))
	if s.EventTypes {
		world += "-typed"
	}
	if _, err := os.Stat(filepath.Join(world, "events.csv")); err != nil {
		sc := synth.DefaultConfig()
		sc.Users, sc.Items, sc.Events, sc.Seed, sc.EventTypes = s.Users, s.Items, s.Events, s.Seed, s.EventTypes
		log.Info("generating the synthetic world", "dir", world, "users", s.Users, "items", s.Items, "events", s.Events, "seed", s.Seed)
		w, err := synth.Generate(ctx, sc)
		if err != nil {
			return nil, fmt.Errorf("synthetic world: %w", err)
		}
		if err := w.WriteDir(world); err != nil {
			return nil, fmt.Errorf("synthetic world: %w", err)
		}
	}
	opt.Format = dataset.FormatGeneric
	ds, err := dataset.Load(world, opt)
	if err != nil {
		return nil, err
	}
	return c.loaded(ds, log)
}

// loaded checks the file's event types against the data just loaded and reports it.
func (c *Config) loaded(ds *dataset.Dataset, log *slog.Logger) (*dataset.Dataset, error) {
	if _, err := c.resolveEvents(ds, log); err != nil {
		return nil, err
	}
	if ds.Dropped > 0 {
		log.Info("dropped events by type", "events", ds.Dropped, "types", c.Events.dropped())
	}
	log.Info("loaded data set", "dataset", ds.String())
	return ds, nil
}
