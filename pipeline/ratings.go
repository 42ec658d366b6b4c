package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cascade-rec/cascade/coat"
	"github.com/cascade-rec/cascade/dataset"
)

// A ratings file declares one model of explicit ratings (explicit_mf) and no stages: it is not
// served or replayed step by step, but trained on a data set's training ratings and judged by the
// error of its predictions on the test ratings. Coat (Schnabel et al. 2016) is the data set such
// files read: its training ratings are self-selected (missing not at random), its test ratings
// uniformly random, so the test error measures what selection bias did to the model.

// RatingsProtocol names the evaluation in reports.
const RatingsProtocol = "ratings-mar"

// IsRatings reports whether the file declares a ratings model.
func (c *Config) IsRatings() bool {
	for _, m := range c.Models {
		if k, ok := kinds[m.Type]; ok && k.ratings {
			return true
		}
	}
	return false
}

// validateRatings checks a ratings file: one ratings model, no stages, Coat's format.
func (c *Config) validateRatings() error {
	names := c.ModelNames()
	for _, name := range names {
		if m := c.Models[name]; !kinds[m.Type].ratings || len(names) > 1 {
			return c.errorf("models."+name, "a ratings file (one with an explicit_mf model) declares exactly that one model, got %d models", len(names))
		}
	}
	name := names[0]
	if _, grid := c.Models[name].Params["weighting"].([]any); grid {
		return c.errorf("models."+name+".params.weighting", "must be one value: it also decides the validation estimator (plain MSE for naive, IPS-weighted for ips), and a grid over it would compare unlike figures")
	}
	for _, s := range []struct {
		key string
		set bool
	}{
		{"retrieve", len(c.Retrieve.Sources) > 0},
		{"fallback", c.Fallback != ""},
		{"filter", len(c.Filter.Exclude) > 0 || len(c.Filter.Rules) > 0},
		{"features", c.Features != nil},
		{"rankers", len(c.Rankers) > 0},
		{"variants", len(c.Variants) > 0},
	} {
		if s.set {
			return c.errorf(s.key, "a ratings file (model %s is %s) predicts ratings and has no ranking stages", name, c.Models[name].Type)
		}
	}
	if f := c.Dataset.Format; f != "auto" && f != dataset.FormatCoat {
		return c.errorf("dataset.format", "a ratings file reads Coat's rating matrices: want %s or auto, got %q", dataset.FormatCoat, f)
	}
	if h := c.Ratings.Holdout; !(h > 0 && h < 1) {
		return c.errorf("ratings.holdout", "must be in (0, 1), got %v", h)
	}
	if f := c.Ratings.Folds; f < 0 || f == 1 || f > 50 {
		return c.errorf("ratings.folds", "must be 0 (the holdout) or 2..50, got %d", f)
	}
	return nil
}

// notRatings refuses a ratings file where a ranking pipeline is needed (training a bundle,
// loading one, serving).
func (c *Config) notRatings(what string) error {
	if c.IsRatings() {
		return fmt.Errorf("%s: %s is a ratings file (an explicit_mf model, no ranking stages): `cascade replay --config %s --data DIR` trains and evaluates it", what, c.path, c.path)
	}
	return nil
}

// RatingsReport is a ratings file's evaluation, as `cascade replay --json` writes it.
type RatingsReport struct {
	Protocol string `json:"protocol"`
	Pipeline string `json:"pipeline"`
	Dataset  string `json:"dataset"`
	Model    string `json:"model"`
	Type     string `json:"type"`
	*coat.Report
	// Values is the chosen grid point as the file writes it ("factors=10, lambda=3").
	Values  string  `json:"values"`
	Seconds float64 `json:"seconds"`
}

// dataDir is the data set directory of the file: dir when not empty (the --data flag), else the
// file's dataset.path resolved against the file's directory ("" when neither is given).
func (c *Config) dataDir(dir string) string {
	if dir == "" && c.Dataset.Path != "" {
		dir = c.Dataset.Path
		if !filepath.IsAbs(dir) && c.path != "" {
			dir = filepath.Join(filepath.Dir(c.path), dir)
		}
	}
	return dir
}

// EvaluateRatings runs a ratings file on the Coat data set in dir (or the file's dataset.path):
// the model's grid is searched on a holdout of the training ratings (ratings.holdout, or
// ratings.folds-fold cross-validation; seeded by ratings.seed), the chosen point refit on all of them and its MSE and MAE measured on the test
// ratings.
func EvaluateRatings(ctx context.Context, cfg *Config, dir string) (*RatingsReport, error) {
	if !cfg.IsRatings() {
		return nil, fmt.Errorf("%s declares no ratings model (explicit_mf): replay it with --models", cfg.path)
	}
	if dir = cfg.dataDir(dir); dir == "" {
		return nil, fmt.Errorf("%s: a ratings file needs Coat's directory: give --data or dataset.path", cfg.path)
	}
	if format, err := dataset.Detect(dir); err != nil {
		return nil, fmt.Errorf("%s reads Coat's rating matrices: %w", cfg.path, err)
	} else if format != dataset.FormatCoat {
		return nil, fmt.Errorf("%s reads Coat's rating matrices (%s, %s, %s), but data set %s is %s: ranking files such as examples/ials.yaml replay it",
			cfg.path, dataset.CoatTrainFile, dataset.CoatTestFile, dataset.CoatPropensitiesFile, dir, format)
	}
	start := time.Now()
	d, err := coat.Load(dir)
	if err != nil {
		return nil, err
	}
	name := cfg.ModelNames()[0]
	trials, err := cfg.Grid(name)
	if err != nil {
		return nil, err
	}
	grid := make([]coat.Params, len(trials))
	for i, t := range trials {
		grid[i] = *t.Params.(*coat.Params)
	}
	rep, err := coat.Run(ctx, d, grid, coat.Options{Holdout: cfg.Ratings.Holdout, Folds: cfg.Ratings.Folds, Seed: cfg.Ratings.Seed})
	if err != nil {
		return nil, fmt.Errorf("%s: model %s: %w", cfg.path, name, err)
	}
	return &RatingsReport{
		Protocol: RatingsProtocol, Pipeline: cfg.Name, Dataset: filepath.Base(filepath.Clean(dir)),
		Model: name, Type: cfg.Models[name].Type, Report: rep,
		Values: trials[rep.Chosen.Index].Label(), Seconds: time.Since(start).Seconds(),
	}, nil
}
