package pipeline

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/ranker/attention"
	"github.com/cascade-rec/cascade/ranker/gbdt"
)

// rankerModel is a trained ranking stage as the pipeline holds it.
type rankerModel interface {
	// FeatureNames are the columns Score reads, in order.
	FeatureNames() []string
	// Score writes one score per item; dense is row-major len(items)×len(FeatureNames()).
	Score(ctx context.Context, q candidates.Query, items []int32, dense, dst []float32) error
	Save(path string) (string, error)
}

type rankerEnv struct {
	NumItems int
	// ItemInit holds initial item vectors (row-major, the ranker's dim wide), or nil.
	ItemInit []float32
	Logger   *slog.Logger
	Progress progress.Options
	Workers  int
}

// rankerKind is how the pipeline trains and loads one ranker type.
type rankerKind struct {
	newParams func() any
	train     func(ctx context.Context, env rankerEnv, train, valid *ranker.Set, params any) (rankerModel, error)
	load      func(path string) (rankerModel, error)
}

var rankerKinds = map[string]*rankerKind{
	"attention": {
		newParams: func() any { p := attention.DefaultParams(); return &p },
		train: func(ctx context.Context, env rankerEnv, train, valid *ranker.Set, params any) (rankerModel, error) {
			p := *params.(*attention.Params)
			if p.Workers == 0 {
				p.Workers = env.Workers
			}
			if env.ItemInit != nil && len(env.ItemInit)%p.Dim != 0 {
				return nil, fmt.Errorf("item_init vectors do not have the ranker's dim %d", p.Dim)
			}
			m, _, err := attention.Train(ctx, train, valid, env.NumItems, p, attention.TrainOptions{ItemInit: env.ItemInit, Progress: env.Progress})
			if err != nil {
				return nil, err
			}
			return attentionRanker{m}, nil
		},
		load: func(path string) (rankerModel, error) {
			m, err := attention.Load(path)
			if err != nil {
				return nil, err
			}
			return attentionRanker{m}, nil
		},
	},
	"lightgbm": {
		newParams: func() any { p := defaultLightGBMParams(); return &p },
		train: func(ctx context.Context, env rankerEnv, train, valid *ranker.Set, params any) (rankerModel, error) {
			p := params.(*LightGBMParams).gbdt()
			p.NumThreads = env.Workers
			m, err := gbdt.Train(ctx, toGBDT(train), toGBDT(valid), p, gbdt.WithLogger(env.Logger))
			if err != nil {
				return nil, err
			}
			return newLightGBMRanker(m), nil
		},
		load: func(path string) (rankerModel, error) {
			m, err := gbdt.LoadFile(path)
			if err != nil {
				return nil, err
			}
			return newLightGBMRanker(m), nil
		},
	},
}

// attentionRanker adapts the DIN-style ranker.
type attentionRanker struct{ *attention.Model }

func (a attentionRanker) Score(ctx context.Context, q candidates.Query, items []int32, dense, dst []float32) error {
	return a.Model.Score(ctx, q.History, items, dense, dst)
}

// LightGBMParams are the LightGBM ranker's parameters in the pipeline file (LightGBM's names).
type LightGBMParams struct {
	Objective       string  `yaml:"objective"` // lambdarank | binary
	Trees           int     `yaml:"trees"`
	Leaves          int     `yaml:"leaves"`
	MaxDepth        int     `yaml:"max_depth"`
	LearningRate    float64 `yaml:"learning_rate"`
	MinDataInLeaf   int     `yaml:"min_data_in_leaf"`
	MinSumHessian   float64 `yaml:"min_sum_hessian"`
	LambdaL2        float64 `yaml:"lambda_l2"`
	MinGain         float64 `yaml:"min_gain"`
	FeatureFraction float64 `yaml:"feature_fraction"`
	BaggingFraction float64 `yaml:"bagging_fraction"`
	BaggingFreq     int     `yaml:"bagging_freq"`
	MaxBin          int     `yaml:"max_bin"`
	EarlyStopping   int     `yaml:"early_stopping"` // rounds without a better validation ndcg
	EvalAt          []int   `yaml:"eval_at"`
	Seed            int     `yaml:"seed"`
}

func defaultLightGBMParams() LightGBMParams {
	d := gbdt.DefaultParams(gbdt.ObjectiveLambdarank)
	return LightGBMParams{
		Objective: gbdt.ObjectiveLambdarank, Trees: 300, Leaves: 31, MaxDepth: d.MaxDepth, LearningRate: 0.05,
		MinDataInLeaf: 50, MinSumHessian: d.MinSumHessianInLeaf, LambdaL2: 1, MinGain: d.MinGainToSplit,
		FeatureFraction: 0.9, BaggingFraction: 0.9, BaggingFreq: 1, MaxBin: 255, EarlyStopping: 30,
		EvalAt: []int{10}, Seed: 1,
	}
}

// Validate names the first bad field.
func (p *LightGBMParams) Validate() error {
	switch {
	case p.Objective != gbdt.ObjectiveLambdarank && p.Objective != gbdt.ObjectiveBinary:
		return fmt.Errorf("lightgbm: objective = %q: must be lambdarank or binary", p.Objective)
	case p.Trees < 1:
		return fmt.Errorf("lightgbm: trees = %d: must be ≥ 1", p.Trees)
	case p.Leaves < 2:
		return fmt.Errorf("lightgbm: leaves = %d: must be ≥ 2", p.Leaves)
	case !(p.LearningRate > 0) || math.IsInf(p.LearningRate, 0):
		return fmt.Errorf("lightgbm: learning_rate = %v: must be > 0", p.LearningRate)
	case p.FeatureFraction <= 0 || p.FeatureFraction > 1:
		return fmt.Errorf("lightgbm: feature_fraction = %v: must be in (0, 1]", p.FeatureFraction)
	case p.BaggingFraction <= 0 || p.BaggingFraction > 1:
		return fmt.Errorf("lightgbm: bagging_fraction = %v: must be in (0, 1]", p.BaggingFraction)
	case p.MaxBin < 2 || p.MaxBin > 255:
		return fmt.Errorf("lightgbm: max_bin = %d: must be in [2, 255]", p.MaxBin)
	case p.MinDataInLeaf < 0 || p.EarlyStopping < 0 || p.BaggingFreq < 0:
		return errors.New("lightgbm: min_data_in_leaf, early_stopping and bagging_freq must be ≥ 0")
	}
	return nil
}

func (p *LightGBMParams) gbdt() gbdt.Params {
	g := gbdt.DefaultParams(p.Objective)
	g.NumTrees, g.NumLeaves, g.MaxDepth, g.LearningRate = p.Trees, p.Leaves, p.MaxDepth, p.LearningRate
	g.MinDataInLeaf, g.MinSumHessianInLeaf, g.LambdaL2, g.MinGainToSplit = p.MinDataInLeaf, p.MinSumHessian, p.LambdaL2, p.MinGain
	g.FeatureFraction, g.BaggingFraction, g.BaggingFreq, g.MaxBin = p.FeatureFraction, p.BaggingFraction, p.BaggingFreq, p.MaxBin
	g.EarlyStoppingRounds, g.EvalAt, g.Seed = p.EarlyStopping, slices.Clone(p.EvalAt), p.Seed
	return g
}

// toGBDT converts a ranking set into LightGBM-style training data (one query group per request).
func toGBDT(s *ranker.Set) *gbdt.Dataset {
	if s == nil {
		return nil
	}
	nf := s.NumFeatures()
	d := &gbdt.Dataset{NumFeatures: nf, FeatureNames: slices.Clone(s.FeatureNames), Source: "ranking set"}
	for i := range s.Requests {
		r := &s.Requests[i]
		d.Groups = append(d.Groups, len(r.Items))
		for j := range r.Items {
			d.Labels = append(d.Labels, float64(r.Labels[j]))
			for _, v := range r.Row(j, nf) {
				d.X = append(d.X, float64(v))
			}
		}
	}
	d.NumRows = len(d.Labels)
	return d
}

// lightGBMRanker scores with a LightGBM model; float64 row scratch is pooled.
type lightGBMRanker struct {
	m    *gbdt.Model
	pool sync.Pool // *[]float64
}

func newLightGBMRanker(m *gbdt.Model) *lightGBMRanker {
	return &lightGBMRanker{m: m, pool: sync.Pool{New: func() any { return new([]float64) }}}
}

func (l *lightGBMRanker) FeatureNames() []string { return l.m.FeatureNames }

func (l *lightGBMRanker) Score(ctx context.Context, _ candidates.Query, items []int32, dense, dst []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	buf := l.pool.Get().(*[]float64)
	defer l.pool.Put(buf)
	n := len(items)
	need := len(dense) + n
	if cap(*buf) < need {
		*buf = make([]float64, need)
	}
	rows, out := (*buf)[:len(dense)], (*buf)[len(dense):need]
	for i, v := range dense {
		rows[i] = float64(v)
	}
	if err := l.m.Score(rows, out); err != nil {
		return err
	}
	for i, v := range out {
		dst[i] = float32(v)
	}
	return nil
}

func (l *lightGBMRanker) Save(path string) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	if err := l.m.Save(w); err != nil {
		f.Close()
		return "", err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return fileSHA256(path)
}

// sampleNegatives keeps every positive of r and at most k negatives (uniform, order kept).
func sampleNegatives(r ranker.Request, nf, k int, rng *rand.Rand) ranker.Request {
	if k <= 0 || len(r.Items) <= k {
		return r
	}
	var neg []int
	for i, l := range r.Labels {
		if l <= 0 {
			neg = append(neg, i)
		}
	}
	if len(neg) <= k {
		return r
	}
	rng.Shuffle(len(neg), func(i, j int) { neg[i], neg[j] = neg[j], neg[i] })
	drop := map[int]bool{}
	for _, i := range neg[k:] {
		drop[i] = true
	}
	out := r
	out.Items, out.Labels, out.Dense = nil, nil, nil
	for i := range r.Items {
		if drop[i] {
			continue
		}
		out.Items = append(out.Items, r.Items[i])
		out.Labels = append(out.Labels, r.Labels[i])
		out.Dense = append(out.Dense, r.Row(i, nf)...)
	}
	out.Proposed = len(out.Items)
	return out
}

// itemVectors returns a model's item vectors and their size: iALS factors or two-tower item
// embeddings.
func itemVectors(m Model) ([]float32, int, error) {
	switch v := m.(type) {
	case interface {
		ItemEmbeddings() []float32
		Dim() int
	}:
		return v.ItemEmbeddings(), v.Dim(), nil
	case interface {
		ItemFactors() []float32
		Factors() int
	}:
		return v.ItemFactors(), v.Factors(), nil
	}
	return nil, 0, fmt.Errorf("model %T has no item vectors", m)
}
