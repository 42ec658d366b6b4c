package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

type exportLTRCmd struct {
	Config string  `required:"" help:"Pipeline file; it needs a features section."`
	Data   string  `help:"Data set directory; overrides the file's dataset.path."`
	Out    string  `required:"" help:"Directory for train.tsv, valid.tsv (+ .query files) and features.txt."`
	Valid  float64 `default:"0.2" help:"Share of requests (the latest) written to valid.tsv."`
}

// Run builds the pipeline's ranking data exactly as 'cascade train' does for its rankers (first
// stage tuned and trained on the validation window, candidates and features at each validation
// event) and writes it in LightGBM's format, so that LightGBM itself can train the final ranker:
//
//	lightgbm task=train objective=lambdarank data=train.tsv valid=valid.tsv header=false ...
//
// and the resulting model.txt can be named in the pipeline file (rankers: model:).
func (c *exportLTRCmd) Run(g *Globals) error {
	cfg, err := loadConfig(c.Config)
	if err != nil {
		return err
	}
	if cfg.Features == nil {
		return errors.New("export-ltr: the pipeline file has no features section, so there is nothing to rank by")
	}
	if c.Valid < 0 || c.Valid >= 1 {
		return fmt.Errorf("export-ltr: --valid = %v: must be in [0, 1)", c.Valid)
	}
	ds, err := cfg.LoadData(g.Ctx, c.Data, cacheDir(), g.Log)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "cascade-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var set *ranker.Set
	opt := pipeline.Options{
		Logger: g.Log, Progress: progress.Options{Disabled: g.NoProgress, Logger: g.Log},
		OnlyRankingData: true,
		RankingData:     func(s *ranker.Set) error { set = s; return nil },
	}
	if _, err := pipeline.Train(g.Ctx, cfg, ds, tmp, opt); err != nil {
		return err
	}
	train, valid := set.SplitTime(1 - c.Valid)
	if err := train.WriteLightGBMFiles(filepath.Join(c.Out, "train.tsv")); err != nil {
		return err
	}
	if len(valid.Requests) > 0 {
		if err := valid.WriteLightGBMFiles(filepath.Join(c.Out, "valid.tsv")); err != nil {
			return err
		}
	}
	names := strings.Join(set.FeatureNames, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(c.Out, "features.txt"), []byte(names), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "%d requests (%d with a positive), %d features → %s\n", set.Stats.Requests, set.Stats.WithPositive, len(set.FeatureNames), c.Out)
	fmt.Fprintf(g.Stdout, "train: cascade gbdt train --data %s --valid %s --objective lambdarank --feature-names %s --out model.txt\n",
		filepath.Join(c.Out, "train.tsv"), filepath.Join(c.Out, "valid.tsv"), strings.Join(set.FeatureNames, ","))
	return nil
}
