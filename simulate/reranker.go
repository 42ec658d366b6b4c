package simulate

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cascade-rec/cascade/ranker/gbdt"
)

// positionFeature is the re-ranker's last column: the slot's position in training, and 1 when
// scoring, so that the model learns the position's effect on clicks apart from the item's
// (position as a training-only feature).
const positionFeature = "position"

// servePosition is the position every candidate is scored at.
const servePosition = 1

// reranker learns P(click) from a policy's impressions: one row per shown item, the pipeline's
// feature row plus the position, labelled 1 when clicked and 0 when shown and not clicked.
type reranker struct {
	cfg   RerankerConfig
	seed  int
	log   *slog.Logger
	names []string // feature names, position last
	x     []float64
	y     []float64
	model *gbdt.Model
}

// add appends the rows of one served slate. Slots without a feature row (fallback answers) are
// skipped.
func (r *reranker) add(s Served) error {
	if len(s.FeatureNames) == 0 {
		return nil
	}
	if r.names == nil {
		r.names = append(append([]string(nil), s.FeatureNames...), positionFeature)
	} else if len(s.FeatureNames)+1 != len(r.names) {
		return fmt.Errorf("simulate: feature rows changed width: %d names, had %d", len(s.FeatureNames), len(r.names)-1)
	}
	for k, slot := range s.Slots {
		if slot.Features == nil {
			continue
		}
		r.x = appendRow(r.x, slot.Features, slot.Position)
		r.y = append(r.y, b2f(s.Clicked[k]))
	}
	return nil
}

// rows is the number of training rows gathered so far.
func (r *reranker) rows() int { return len(r.y) }

// train fits a new model on every row gathered so far. It keeps the old model when the rows
// hold no click or no miss (a binary model needs both).
func (r *reranker) train(ctx context.Context) error {
	var pos int
	for _, y := range r.y {
		pos += int(y)
	}
	if pos == 0 || pos == len(r.y) {
		r.log.Warn("re-ranker not retrained: the impressions hold only one label", "rows", len(r.y), "clicks", pos)
		return nil
	}
	p := gbdt.DefaultParams(gbdt.ObjectiveBinary)
	p.NumTrees, p.NumLeaves = r.cfg.Trees, r.cfg.Leaves
	p.LearningRate, p.MinDataInLeaf = r.cfg.LearningRate, r.cfg.MinDataInLeaf
	p.Seed = r.seed
	d := &gbdt.Dataset{NumRows: len(r.y), NumFeatures: len(r.names), X: r.x, Labels: r.y, FeatureNames: r.names}
	m, err := gbdt.Train(ctx, d, nil, p)
	if err != nil {
		return fmt.Errorf("simulate: training the re-ranker on %d impressions: %w", len(r.y), err)
	}
	r.model = m
	return nil
}

// score returns the model's logit for each feature row, scored at servePosition.
func (r *reranker) score(rows [][]float32) ([]float64, error) {
	x := make([]float64, 0, len(rows)*len(r.names))
	for _, f := range rows {
		if len(f)+1 != len(r.names) {
			return nil, fmt.Errorf("simulate: a feature row of %d values, the re-ranker has %d features", len(f), len(r.names)-1)
		}
		x = appendRow(x, f, servePosition)
	}
	out := make([]float64, len(rows))
	if err := r.model.Score(x, out); err != nil {
		return nil, fmt.Errorf("simulate: re-ranker: %w", err)
	}
	return out, nil
}

func appendRow(x []float64, f []float32, position int) []float64 {
	for _, v := range f {
		x = append(x, float64(v))
	}
	return append(x, float64(position))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
