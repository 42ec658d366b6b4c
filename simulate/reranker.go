package simulate

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/ranker/gbdt"
)

// reranker learns P(click) from a policy's impressions with the pipeline's own builder of ranking
// data from impressions (ranker.BuildImpressions, as `ranking_data: {source: impressions}`
// uses): one row per shown item, the bundle's feature row for it (every model score, the feature
// stage's features and the bundle rankers' scores, as Explain gives them at serving) plus the
// shown position (unless the file turns it off), labelled 1 when clicked and 0 when shown and
// not clicked; optionally sampled catalog negatives and inverse-propensity weights. The position
// is a training-only feature: every candidate is scored at ranker.ServePosition.
type reranker struct {
	cfg      RerankerConfig
	seed     int
	log      *slog.Logger
	stages   ranker.Stages // the bundle's candidate and feature stages
	numItems int           // the bundle's catalog
	workers  int
	set      *ranker.Set // every impression so far
	model    *gbdt.Model
}

// add builds the rows of one round's slates and appends them to the set.
func (r *reranker) add(ctx context.Context, round int, imps []ranker.Impression) error {
	s, err := ranker.BuildImpressions(ctx, imps, nil, r.stages, ranker.ImpressionOptions{
		NumItems: r.numItems, Position: r.cfg.PositionFeature, PropensityWeights: r.cfg.PropensityWeighting,
		RandomNegatives: r.cfg.RandomNegatives, Seed: uint64(r.seed)<<16 ^ uint64(round), Workers: r.workers,
	})
	if err != nil {
		return fmt.Errorf("simulate: re-ranker data: %w", err)
	}
	if r.set == nil {
		r.set = s
		return nil
	}
	if len(s.FeatureNames) != len(r.set.FeatureNames) {
		return fmt.Errorf("simulate: feature rows changed width: %d names, had %d", len(s.FeatureNames), len(r.set.FeatureNames))
	}
	r.set.Requests = append(r.set.Requests, s.Requests...)
	return nil
}

// rows is the number of training rows gathered so far (shown items and sampled negatives).
func (r *reranker) rows() int {
	if r.set == nil {
		return 0
	}
	return r.set.Rows()
}

// clicks counts the positive rows.
func (r *reranker) clicks() int {
	n := 0
	if r.set != nil {
		for _, q := range r.set.Requests {
			for _, y := range q.Labels {
				n += int(y)
			}
		}
	}
	return n
}

// train fits a new model on every row gathered so far. It keeps the old model when the rows
// hold no click or no miss (a binary model needs both).
func (r *reranker) train(ctx context.Context) error {
	if pos := r.clicks(); pos == 0 || pos == r.rows() {
		r.log.Warn("re-ranker not retrained: the impressions hold only one label", "rows", r.rows(), "clicks", pos)
		return nil
	}
	p := gbdt.DefaultParams(gbdt.ObjectiveBinary)
	p.NumTrees, p.NumLeaves = r.cfg.Trees, r.cfg.Leaves
	p.LearningRate, p.MinDataInLeaf = r.cfg.LearningRate, r.cfg.MinDataInLeaf
	p.Seed = r.seed
	d := pipeline.LightGBMData(r.set)
	d.Groups = nil // a binary model: rows, not lists
	m, err := gbdt.Train(ctx, d, nil, p)
	if err != nil {
		return fmt.Errorf("simulate: training the re-ranker on %d impressions: %w", d.NumRows, err)
	}
	r.model = m
	return nil
}

// score returns the model's logit for each feature row (as Explain gives them), scored at
// ranker.ServePosition.
func (r *reranker) score(rows [][]float32) ([]float64, error) {
	names := r.set.FeatureNames
	x := make([]float64, 0, len(rows)*len(names))
	for _, f := range rows {
		switch {
		case len(f) == len(names):
		case len(f)+1 == len(names) && names[len(f)] == ranker.PositionFeature:
			f = append(f[:len(f):len(f)], ranker.ServePosition)
		default:
			return nil, fmt.Errorf("simulate: a feature row of %d values, the re-ranker has %d features", len(f), len(names))
		}
		for _, v := range f {
			x = append(x, float64(v))
		}
	}
	out := make([]float64, len(rows))
	if err := r.model.Score(x, out); err != nil {
		return nil, fmt.Errorf("simulate: re-ranker: %w", err)
	}
	return out, nil
}
