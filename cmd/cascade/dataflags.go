package main

import (
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
)

// dataFlag is --data, shared by the commands that read a pipeline file's data set (train, replay,
// export-ltr), so that its help says the same thing in each.
type dataFlag struct {
	Data string `help:"Data set directory; overrides the pipeline file's dataset.path ('cascade data fetch' prints one)."`
}

// malformedFlag is --skip-malformed, shared by the commands that read a data set.
type malformedFlag struct {
	SkipMalformed bool `help:"Skip malformed data rows instead of failing (their number is logged); the pipeline file's dataset.skip_malformed."`
}

// loadData loads the data set of cfg: the --data directory when given, else the file's own
// (see pipeline.Config.LoadData), skipping malformed rows when the flag or the file asks.
func loadData(g *Globals, cfg *pipeline.Config, dir string, skip malformedFlag) (*dataset.Dataset, error) {
	if skip.SkipMalformed {
		cfg.Dataset.SkipMalformed = true
	}
	return cfg.LoadData(g.Ctx, dir, cacheDir(), g.Log)
}
