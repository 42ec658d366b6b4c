package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/coat"
	"github.com/cascade-rec/cascade/dataset"
)

const ratingsConfig = `name: r
dataset: {format: coat}
models:
  mf:
    type: explicit_mf
    params:
      weighting: ips
      factors: [2, 4]
      lambda: [1, 10]
      iterations: 5
ratings: {holdout: 0.25, seed: 2}
`

func TestRatingsConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, old, new, key string
	}{
		{"weighting grid", "weighting: ips", "weighting: [naive, ips]", "models.mf.params.weighting"},
		{"bad weighting", "weighting: ips", "weighting: snips", "models.mf.params.weighting"},
		{"unknown param", "iterations: 5", "iterations: 5\n      alpha: 3", "models.mf.params.alpha"},
		{"second model", "models:\n", "models:\n  pop: {type: popularity}\n", "models.mf"},
		{"stages", "ratings: {", "retrieve: {sources: [{model: mf, k: 5}]}\nratings: {", "retrieve"},
		{"format", "format: coat", "format: ml-100k", "dataset.format"},
		{"holdout", "holdout: 0.25", "holdout: 1", "ratings.holdout"},
		{"folds", "seed: 2", "seed: 2, folds: 1", "ratings.folds"},
		{"clip without ips", "weighting: ips", "weighting: naive\n      min_propensity: 0.1", "models.mf.params.min_propensity"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("r.yaml", []byte(replace(t, ratingsConfig, c.old, c.new)))
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != c.key {
				t.Fatalf("err = %v, want a ConfigError at %s", err, c.key)
			}
		})
	}
}

// coatDir writes a small Coat-shaped data set.
func coatDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := coat.WriteSynthetic(dir, coat.Synthetic{Users: 60, Items: 40, TrainPerUser: 10, TestPerUser: 6, Selection: 0.8, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEvaluateRatings(t *testing.T) {
	cfg, err := ParseConfig("r.yaml", []byte(ratingsConfig))
	if err != nil {
		t.Fatal(err)
	}
	dir := coatDir(t)
	if f, err := dataset.Detect(dir); err != nil || f != dataset.FormatCoat {
		t.Fatalf("detected %q, %v", f, err)
	}
	rep, err := EvaluateRatings(context.Background(), cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Protocol != RatingsProtocol || rep.Weighting != coat.IPS || rep.Ratings.N != 60*6 || !(rep.Ratings.MSE > 0) || rep.Chosen.Trials != 4 ||
		!strings.Contains(rep.Values, "factors=") {
		t.Fatalf("report %+v", rep)
	}

	// A ratings file on other data, and ranking work on Coat or with a ratings file, are refused
	// by name.
	world := t.TempDir()
	if err := os.WriteFile(filepath.Join(world, "events.csv"), []byte("user_id,item_id,timestamp\nu,i,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ranking, err := ParseConfig("p.yaml", []byte(validConfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"ratings file on events", func() error { _, err := EvaluateRatings(context.Background(), cfg, world); return err }, "is generic"},
		{"ranking file on Coat", func() error { _, err := ranking.LoadData(context.Background(), dir, "", nil); return err }, "is Coat"},
		{"ranking file evaluated as ratings", func() error { _, err := EvaluateRatings(context.Background(), ranking, dir); return err }, "no ratings model"},
		{"ratings file trained as a bundle", func() error { _, err := Train(context.Background(), cfg, nil, t.TempDir(), Options{}); return err }, "is a ratings file"},
		{"ratings file's data loaded as events", func() error { _, err := cfg.LoadData(context.Background(), dir, "", nil); return err }, "is a ratings file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	if _, err := ranking.LoadData(context.Background(), dir, "", nil); !errors.Is(err, dataset.ErrRatingMatrices) {
		t.Fatalf("err = %v, want ErrRatingMatrices", err)
	}
}
