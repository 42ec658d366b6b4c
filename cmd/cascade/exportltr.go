package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

type exportLTRCmd struct {
	Config string `required:"" help:"Pipeline file; it needs a features section."`
	dataFlag
	Out    string  `required:"" help:"Directory for the train and valid files and features.txt."`
	Valid  float64 `default:"0.2" help:"Share of requests (the latest) written to the valid file."`
	Format string  `default:"lightgbm" enum:"lightgbm,parquet" help:"lightgbm: train.tsv, valid.tsv and their .query files, for LightGBM's CLI; parquet: train.parquet and valid.parquet (query_id, label, features array<float>, item_id, user_id, time), for distributed LightGBM or Spark."`
}

// Run builds the pipeline's ranking data exactly as 'cascade train' does for its rankers (first
// stage tuned and trained on the validation window, candidates and features at each validation
// event) and writes it in LightGBM's format, so that LightGBM itself can train the final ranker:
//
//	lightgbm task=train objective=lambdarank data=train.tsv valid=valid.tsv header=false ...
//
// and the resulting model.txt can be named in the pipeline file (rankers: model:). With --format
// parquet it writes the same rows as Parquet (writeLTRParquet), for engines that read a table.
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
	names := strings.Join(set.FeatureNames, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(c.Out, "features.txt"), []byte(names), 0o644); err != nil {
		return err
	}
	if c.Format == "parquet" {
		for _, part := range []struct {
			name string
			set  *ranker.Set
		}{{"train.parquet", train}, {"valid.parquet", valid}} {
			if part.name == "valid.parquet" && len(part.set.Requests) == 0 {
				continue
			}
			if err := writeLTRParquet(filepath.Join(c.Out, part.name), part.set, ds); err != nil {
				return err
			}
		}
		fmt.Fprintf(g.Stdout, "%d requests (%d with a positive), %d features → %s\n", set.Stats.Requests, set.Stats.WithPositive, len(set.FeatureNames), c.Out)
		fmt.Fprintf(g.Stdout, "spark: df = spark.read.parquet(%q).withColumn(\"features\", array_to_vector(\"features\")); LightGBMRanker(groupCol=\"query_id\", labelCol=\"label\", featuresCol=\"features\")\n",
			filepath.Join(c.Out, "train.parquet"))
		return nil
	}
	if err := train.WriteLightGBMFiles(filepath.Join(c.Out, "train.tsv")); err != nil {
		return err
	}
	if len(valid.Requests) > 0 {
		if err := valid.WriteLightGBMFiles(filepath.Join(c.Out, "valid.tsv")); err != nil {
			return err
		}
	}
	fmt.Fprintf(g.Stdout, "%d requests (%d with a positive), %d features → %s\n", set.Stats.Requests, set.Stats.WithPositive, len(set.FeatureNames), c.Out)
	fmt.Fprintf(g.Stdout, "train: cascade gbdt train --data %s --valid %s --objective lambdarank --feature-names %s --out model.txt\n",
		filepath.Join(c.Out, "train.tsv"), filepath.Join(c.Out, "valid.tsv"), strings.Join(set.FeatureNames, ","))
	return nil
}

// ltrRow is one candidate of the ranking data as the Parquet export holds it. The rows of a
// request are contiguous and share its query_id (0, 1, … in time order, the line numbers of
// LightGBM's .query file); features are in features.txt's order (also in the file's key-value
// metadata "cascade.feature_names", a JSON list), NaN where a feature is missing, as LightGBM
// reads it.
type ltrRow struct {
	QueryID  int64     `parquet:"query_id"`
	Label    float32   `parquet:"label"`
	Features []float32 `parquet:"features,list"`
	ItemID   string    `parquet:"item_id"`
	UserID   string    `parquet:"user_id"` // empty for a user the data set does not know
	Time     int64     `parquet:"time"`    // the request's Unix time
}

// writeLTRParquet writes s to path as Parquet (snappy, as Spark writes it): one row per
// candidate, external IDs from ds. Requests without candidates are skipped, as in the LightGBM
// format.
func writeLTRParquet(path string, s *ranker.Set, ds *dataset.Dataset) (err error) {
	names, err := json.Marshal(s.FeatureNames)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("export-ltr: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export-ltr: %s: %w", path, cerr)
		}
	}()
	w := parquet.NewGenericWriter[ltrRow](f, parquet.Compression(&parquet.Snappy),
		parquet.KeyValueMetadata("cascade.feature_names", string(names)))
	id := func(d *dataset.Dict, x int32) string {
		if x < 0 || int(x) >= d.Len() {
			return ""
		}
		return d.String(x)
	}
	nf := s.NumFeatures()
	rows := make([]ltrRow, 0, 4096)
	flush := func() error {
		if _, err := w.Write(rows); err != nil {
			return fmt.Errorf("export-ltr: writing %s: %w", path, err)
		}
		rows = rows[:0]
		return nil
	}
	var query int64
	for k := range s.Requests {
		r := &s.Requests[k]
		if len(r.Items) == 0 {
			continue
		}
		user := id(ds.Users, r.User)
		for i, it := range r.Items {
			rows = append(rows, ltrRow{QueryID: query, Label: r.Labels[i], Features: r.Row(i, nf), ItemID: id(ds.Items, it), UserID: user, Time: r.Time})
			if len(rows) == cap(rows) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		query++
	}
	if err := flush(); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("export-ltr: writing %s: %w", path, err)
	}
	return nil
}
