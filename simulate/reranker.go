package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"

	"github.com/cascade-rec/cascade/candidates"
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
	// truth, when set (RerankerConfig.TruthFeature), gives the diagnostic column's values.
	truth truthFunc
	size  [2]int // the model's leaves per tree and trees
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
	if r.truth != nil {
		r.addTruthColumn(s)
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
	if len(r.cfg.SelectLeaves) > 0 {
		leaves, trees, ok, err := r.selectSize(ctx, p)
		if err != nil {
			return err
		}
		if ok {
			p.NumLeaves, p.NumTrees = leaves, trees
		}
	}
	d := binaryData(r.set)
	m, err := gbdt.Train(ctx, d, nil, p)
	if err != nil {
		return fmt.Errorf("simulate: training the re-ranker on %d impressions: %w", d.NumRows, err)
	}
	r.model, r.size = m, [2]int{p.NumLeaves, len(m.Trees)}
	return nil
}

const (
	heldOutEvery   = 5  // the size is chosen holding out every heldOutEvery-th slate
	selectPatience = 20 // trees without a better held-out log loss before a trial stops
)

// selectSize trains a model per SelectLeaves entry on all slates but every heldOutEvery-th, with
// early stopping on the held-out ones (at most p.NumTrees trees), and returns the leaf and tree
// counts of the one with the lowest held-out log loss (the first listed on a tie). ok is false
// when either side lacks a click or a miss: nothing can be judged, and the fixed size stands.
func (r *reranker) selectSize(ctx context.Context, p gbdt.Params) (leaves, trees int, ok bool, err error) {
	n := 0
	fit := r.set.Filter(func(*ranker.Request) bool { n++; return n%heldOutEvery != 0 })
	n = 0
	held := r.set.Filter(func(*ranker.Request) bool { n++; return n%heldOutEvery == 0 })
	dFit, dHeld := binaryData(fit), binaryData(held)
	if !bothLabels(dFit.Labels) || !bothLabels(dHeld.Labels) {
		r.log.Warn("re-ranker size not chosen: a side of the held-out split has one label", "fit_rows", dFit.NumRows, "held_out_rows", dHeld.NumRows)
		return 0, 0, false, nil
	}
	best := math.Inf(1)
	for _, l := range r.cfg.SelectLeaves {
		q := p
		q.NumLeaves = l
		q.EarlyStoppingRounds = selectPatience
		// The trainer judges every round on the held-out slates already: keep its log losses.
		var losses []float64
		m, err := gbdt.Train(ctx, dFit, dHeld, q, gbdt.WithCallback(func(it gbdt.Iteration) {
			losses = append(losses, it.Valid[0].Value)
		}))
		if err != nil {
			return 0, 0, false, fmt.Errorf("simulate: choosing the re-ranker's size (%d leaves): %w", l, err)
		}
		if loss := losses[len(m.Trees)-1]; loss < best {
			best, leaves, trees = loss, l, len(m.Trees)
		}
	}
	r.log.Info("re-ranker size chosen on held-out slates", "leaves", leaves, "trees", trees, "held_out_logloss", math.Round(best*1e4)/1e4, "held_out_rows", dHeld.NumRows)
	return leaves, trees, true, nil
}

// addTruthColumn appends the diagnostic truth column to every row of s.
func (r *reranker) addTruthColumn(s *ranker.Set) {
	w := len(s.FeatureNames)
	s.FeatureNames = append(slices.Clip(s.FeatureNames), "truth_"+r.cfg.TruthFeature)
	for k := range s.Requests {
		q := &s.Requests[k]
		dense := make([]float32, 0, len(q.Items)*(w+1))
		col := r.truth(q.User, q.Time, q.History)
		for j, it := range q.Items {
			dense = append(dense, q.Dense[j*w:(j+1)*w]...)
			dense = append(dense, col(it))
		}
		q.Dense = dense
	}
}

// binaryData is s as a binary model's training data: rows, not lists.
func binaryData(s *ranker.Set) *gbdt.Dataset {
	d := pipeline.LightGBMData(s)
	d.Groups = nil
	return d
}

func bothLabels(y []float64) bool {
	return slices.Contains(y, 0) && slices.ContainsFunc(y, func(v float64) bool { return v > 0 })
}

// score returns the model's logit for each feature row (as Explain gives them) of the query's
// dense items, scored at ranker.ServePosition.
func (r *reranker) score(q *candidates.Query, items []int32, rows [][]float32) ([]float64, error) {
	names := r.set.FeatureNames
	explained := len(names) // the columns Explain gives: the set's, less position and truth
	if r.truth != nil {
		explained--
	}
	position := explained > 0 && names[explained-1] == ranker.PositionFeature
	if position {
		explained--
	}
	x := make([]float64, 0, len(rows)*len(names))
	var col func(int32) float32
	if r.truth != nil {
		col = r.truth(q.User, q.Time, q.History)
	}
	for j, f := range rows {
		switch {
		case len(f) == explained:
		case position && len(f) == explained+1:
			f = f[:explained] // the stages' own position column, scored at ServePosition as well
		default:
			return nil, fmt.Errorf("simulate: a feature row of %d values, the re-ranker has %d features", len(f), len(names))
		}
		for _, v := range f {
			x = append(x, float64(v))
		}
		if position {
			x = append(x, ranker.ServePosition)
		}
		if col != nil {
			x = append(x, float64(col(items[j])))
		}
	}
	out := make([]float64, len(rows))
	if err := r.model.Score(x, out); err != nil {
		return nil, fmt.Errorf("simulate: re-ranker: %w", err)
	}
	return out, nil
}
