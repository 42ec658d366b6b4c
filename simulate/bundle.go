package simulate

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
)

// DefaultPipeline is the cascade policy's pipeline file when Config.Pipeline is empty.
//
//go:embed pipeline.yaml
var DefaultPipeline []byte

// trainBundle trains the cascade policy's bundle on the world's log (ds) into dir and opens it.
// final.k is raised to the candidates the re-ranker needs, and the ranking data's seed follows
// the simulation's.
func trainBundle(ctx context.Context, cfg Config, ds *dataset.Dataset, dir string, log *slog.Logger) (*pipeline.Pipeline, error) {
	var pcfg *pipeline.Config
	var err error
	if cfg.Pipeline == "" {
		pcfg, err = pipeline.ParseConfig("simulate/pipeline.yaml", DefaultPipeline)
	} else {
		pcfg, err = pipeline.LoadConfig(cfg.Pipeline)
	}
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	pcfg.Final.K = max(pcfg.Final.K, cfg.Candidates)
	pcfg.RankingData.Seed = cfg.Seed
	log.Info("training the cascade bundle on the world's log", "pipeline", pcfg.Name, "events", len(ds.Events), "dir", dir)
	if _, err := pipeline.Train(ctx, pcfg, ds, dir, pipeline.Options{Logger: log, Progress: progress.Options{Disabled: true}}); err != nil {
		return nil, fmt.Errorf("simulate: training the bundle: %w", err)
	}
	p, err := pipeline.Open(pcfg, dir, ds)
	if err != nil {
		return nil, fmt.Errorf("simulate: opening the bundle: %w", err)
	}
	return p, nil
}
