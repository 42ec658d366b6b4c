package gbdt

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EvalResult is one validation metric after one boosting round.
type EvalResult struct {
	Name  string // "ndcg@10", "logloss"
	Value float64
}

// Iteration reports one finished boosting round to a callback.
type Iteration struct {
	Index int          // 0-based round
	Valid []EvalResult // empty without validation data
	Best  int          // round with the best early-stopping metric so far (-1 without validation data)
}

type trainConfig struct {
	log      *slog.Logger
	callback func(Iteration)
}

// TrainOption configures Train.
type TrainOption func(*trainConfig)

// WithLogger sends training logs to l (default: discard).
func WithLogger(l *slog.Logger) TrainOption { return func(c *trainConfig) { c.log = l } }

// WithCallback calls fn after every boosting round (progress reporting).
func WithCallback(fn func(Iteration)) TrainOption { return func(c *trainConfig) { c.callback = fn } }

// Train fits a boosted tree ensemble to train, monitoring valid (may be nil) for early
// stopping. It checks ctx between trees. The result is deterministic for Params.Seed.
func Train(ctx context.Context, train *Dataset, valid *Dataset, p Params, opts ...TrainOption) (*Model, error) {
	m, _, err := trainModel(ctx, train, valid, p, opts...)
	return m, err
}

// trainModel is Train, also returning the final training scores as the trainer computed them
// (by bins), which tests compare with predictions from the saved file.
func trainModel(ctx context.Context, train *Dataset, valid *Dataset, p Params, opts ...TrainOption) (*Model, []float64, error) {
	cfg := trainConfig{log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	if p.BinSampleCount <= 0 {
		p.BinSampleCount = 200000
	}
	if p.LambdarankTruncationLevel <= 0 {
		p.LambdarankTruncationLevel = 30
	}
	if p.Sigmoid <= 0 {
		p.Sigmoid = 1
	}
	if len(p.EvalAt) == 0 {
		p.EvalAt = []int{1, 3, 5, 10}
	}
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	if err := train.Validate(); err != nil {
		return nil, nil, err
	}
	if valid != nil {
		if err := valid.Validate(); err != nil {
			return nil, nil, err
		}
		v, err := valid.WithFeatures(train.NumFeatures)
		if err != nil {
			return nil, nil, fmt.Errorf("validation data: %w (training data has %d)", err, train.NumFeatures)
		}
		valid = v
	}
	for _, name := range train.FeatureNames {
		if name == "" || strings.ContainsAny(name, " \t\r\n=") {
			return nil, nil, fmt.Errorf("gbdt: feature name %q: LightGBM model files need names without spaces or '='", name)
		}
	}
	workers := p.NumThreads
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	seeds := deriveLGBSeeds(int(int32(p.Seed)))
	start := time.Now()
	nf, n := train.NumFeatures, train.NumRows

	// Bins from a row sample, as LightGBM does.
	sample := sampleRows(n, p.BinSampleCount, seeds.dataRandom)
	mappers := make([]*binMapper, nf)
	filterCnt := int(float64(p.MinDataInLeaf) * float64(len(sample)) / float64(n))
	parallelFor(nf, workers, func(f int) {
		vals := make([]float64, len(sample))
		for i, r := range sample {
			vals[i] = train.X[r*nf+f]
		}
		mappers[f] = newBinMapper(vals, p.MaxBin, filterCnt)
	})
	var usable []int
	for f, m := range mappers {
		if !m.trivial() {
			usable = append(usable, f)
		}
	}
	tb := binColumns(train.X, n, nf, mappers, workers)
	var vb *binned
	if valid != nil {
		vb = binColumns(valid.X, valid.NumRows, nf, mappers, workers)
	}
	cfg.log.Info("binned data", "rows", n, "features", nf, "usable", len(usable), "elapsed", time.Since(start).Round(time.Millisecond))

	var obj objective
	var err error
	switch p.Objective {
	case ObjectiveLambdarank:
		obj, err = newLambdarank(train, &p, workers)
		if err == nil && valid != nil {
			if valid.Groups == nil {
				err = fmt.Errorf("%s: lambdarank validation needs query groups (a .query file)", valid.Source)
			} else {
				err = checkRankLabels(valid, labelGainOrDefault(p.LabelGain))
			}
		}
	case ObjectiveBinary:
		obj, err = newBinary(train)
		if err == nil && valid != nil {
			_, err = newBinary(valid)
		}
	}
	if err != nil {
		return nil, nil, err
	}

	init := obj.initScore()
	scores := make([]float64, n)
	for i := range scores {
		scores[i] = init
	}
	var vscores, prob []float64
	var ev *ndcgEval
	if valid != nil {
		vscores = make([]float64, valid.NumRows)
		for i := range vscores {
			vscores[i] = init
		}
		prob = make([]float64, valid.NumRows)
		if p.Objective == ObjectiveLambdarank {
			ev = newNDCGEval(valid.Labels, valid.Groups, p.EvalAt, labelGainOrDefault(p.LabelGain))
		}
	}
	grad := make([]float64, n)
	hess := make([]float64, n)
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	bag := all
	bagBuf := make([]int32, 0, n)
	var oob []int32 // rows out of the bag
	// Bags and feature samples are drawn with LightGBM's generators and seed derivation, so
	// a seed gives the same bags (and, as far as LightGBM's sampler is followed, features) as
	// LightGBM's seed.
	bagger := newLGBBagger(n, seeds.bagging)
	var colSampler *lgbColSampler
	if p.FeatureFraction < 1 {
		colSampler = newLGBColSampler(seeds.featureFraction, usable, p.FeatureFraction)
	}
	lrn := newLearner(&p, tb, mappers, workers)

	var trees []*Tree
	bestIter, bestScore, sinceBest := -1, math.Inf(-1), 0
	stopped := false
	for it := 0; it < p.NumTrees; it++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("gbdt: training stopped after %d trees: %w", len(trees), err)
		}
		if p.BaggingFreq > 0 && p.BaggingFraction < 1 && it%p.BaggingFreq == 0 {
			bagBuf, oob = bagger.bag(bagBuf, oob, n, p.BaggingFraction)
			bag = bagBuf
		}
		obj.gradients(scores, grad, hess)
		if w := train.Weights; w != nil {
			for i := range grad {
				grad[i] *= w[i]
				hess[i] *= w[i]
			}
		}
		feats := usable
		if colSampler != nil {
			feats = colSampler.next()
		}
		var t *Tree
		if len(feats) > 0 && len(bag) > 0 {
			t = lrn.grow(grad, hess, bag, feats)
		} else {
			t = newTree(1)
		}
		t.finish()
		if t.NumLeaves == 1 && it > 0 {
			cfg.log.Info("no split improves the loss; stopping", "trees", len(trees))
			break
		}
		if t.NumLeaves == 1 {
			t.LeafValue[0] = 0 // a constant first tree only carries the initial score
		}
		t.shrink(p.LearningRate)
		t.Shrinkage = p.LearningRate
		if t.NumLeaves > 1 {
			// In-bag rows by the partition, the others by walking the tree (as LightGBM).
			lrn.addToScores(t, scores)
			if len(oob) > 0 {
				updateRows(t, tb, mappers, scores, oob, workers)
			}
		} else {
			updateScores(t, tb, mappers, scores, workers)
		}
		if vb != nil {
			updateScores(t, vb, mappers, vscores, workers)
		}
		if it == 0 {
			t.addBias(init)
		}
		trees = append(trees, t)

		info := Iteration{Index: it, Best: -1}
		if valid != nil {
			var metric float64 // larger is better
			if ev != nil {
				vals := ev.eval(vscores)
				for j, k := range p.EvalAt {
					info.Valid = append(info.Valid, EvalResult{Name: "ndcg@" + strconv.Itoa(k), Value: vals[j]})
				}
				metric = vals[0]
			} else {
				for i, s := range vscores {
					prob[i] = sigmoid(s)
				}
				ll := Logloss(valid.Labels, prob)
				info.Valid = append(info.Valid, EvalResult{Name: "logloss", Value: ll})
				metric = -ll
			}
			if metric > bestScore {
				bestScore, bestIter, sinceBest = metric, it, 0
			} else {
				sinceBest++
			}
			info.Best = bestIter
		}
		if cfg.callback != nil {
			cfg.callback(info)
		}
		if p.EarlyStoppingRounds > 0 && valid != nil && sinceBest >= p.EarlyStoppingRounds {
			cfg.log.Info("early stopping", "best_iteration", bestIter+1, "best", bestScore)
			stopped = true
			break
		}
	}
	if stopped {
		trees = trees[:bestIter+1]
	}
	cfg.log.Info("trained", "trees", len(trees), "elapsed", time.Since(start).Round(time.Millisecond))

	m := &Model{
		Trees:        trees,
		NumFeatures:  nf,
		FeatureNames: featureNames(train, nf),
		FeatureInfos: make([]string, nf),
		Objective:    obj.name(),
		Params:       p.lightGBMParams(),
	}
	for f, mp := range mappers {
		if mp.trivial() {
			m.FeatureInfos[f] = "none"
		} else {
			m.FeatureInfos[f] = "[" + formatFloat(mp.min) + ":" + formatFloat(mp.max) + "]"
		}
	}
	if err := m.compile(); err != nil {
		return nil, nil, err
	}
	return m, scores, nil
}

func labelGainOrDefault(g []float64) []float64 {
	if g == nil {
		return defaultLabelGain()
	}
	return g
}

func featureNames(d *Dataset, nf int) []string {
	if len(d.FeatureNames) == nf {
		return slices.Clone(d.FeatureNames)
	}
	names := make([]string, nf)
	for i := range names {
		names[i] = "Column_" + strconv.Itoa(i)
	}
	return names
}

func (t *Tree) shrink(rate float64) {
	for i := range t.LeafValue {
		t.LeafValue[i] *= rate
	}
	for i := range t.InternalValue {
		t.InternalValue[i] *= rate
	}
}

// updateScores adds the tree's output (by bins) to every row's score, in row chunks.
func updateScores(t *Tree, b *binned, mappers []*binMapper, scores []float64, workers int) {
	const chunk = 8192
	nc := (b.rows + chunk - 1) / chunk
	parallelFor(nc, workers, func(c int) {
		for r := c * chunk; r < min((c+1)*chunk, b.rows); r++ {
			scores[r] += t.LeafValue[t.leafOfBins(b, mappers, r)]
		}
	})
}

// updateRows is updateScores for the listed rows only.
func updateRows(t *Tree, b *binned, mappers []*binMapper, scores []float64, rows []int32, workers int) {
	const chunk = 8192
	nc := (len(rows) + chunk - 1) / chunk
	parallelFor(nc, workers, func(c int) {
		for _, r := range rows[c*chunk : min((c+1)*chunk, len(rows))] {
			scores[r] += t.LeafValue[t.leafOfBins(b, mappers, int(r))]
		}
	})
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', 17, 64) }
