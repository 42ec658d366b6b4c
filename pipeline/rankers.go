package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/ranker/attention"
	"github.com/cascade-rec/cascade/ranker/gbdt"
)

// Ranker is a trained ranking stage: it scores the candidates of one request from their feature
// rows (and, if it likes, the request's history).
type Ranker interface {
	// FeatureNames are the columns Score reads, in order.
	FeatureNames() []string
	// Score writes one score per item; dense is row-major len(items)×len(FeatureNames()).
	Score(ctx context.Context, q candidates.Query, items []int32, dense, dst []float32) error
	// Save writes the ranker's artifact to path and returns its SHA-256.
	Save(path string) (string, error)
}

// RankerEnv is what a ranker kind's trainer sees besides its training and early-stopping sets.
type RankerEnv struct {
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
	train     func(ctx context.Context, env RankerEnv, train, valid *ranker.Set, params any) (Ranker, error)
	load      func(path string) (Ranker, error)
}

var rankerKinds = map[string]*rankerKind{
	"attention": {
		newParams: defaults(attention.DefaultParams),
		train: func(ctx context.Context, env RankerEnv, train, valid *ranker.Set, params any) (Ranker, error) {
			p := *params.(*attention.Params)
			if p.Workers == 0 {
				p.Workers = env.Workers
			}
			if env.ItemInit != nil && len(env.ItemInit)%p.Dim != 0 {
				return nil, fmt.Errorf("item_init vectors do not have the ranker's dim %d", p.Dim)
			}
			m, _, err := attention.Train(ctx, train, valid, env.NumItems, p, attention.TrainOptions{ItemInit: env.ItemInit, Progress: env.Progress})
			return asAttention(m, err)
		},
		load: func(path string) (Ranker, error) { return asAttention(attention.Load(path)) },
	},
	"lightgbm": {
		newParams: defaults(lightGBMDefaults),
		train: func(ctx context.Context, env RankerEnv, train, valid *ranker.Set, params any) (Ranker, error) {
			p := *params.(*gbdt.Params)
			p.NumThreads = env.Workers
			return asLightGBM(gbdt.Train(ctx, LightGBMData(train), LightGBMData(valid), p, gbdt.WithLogger(env.Logger)))
		},
		load: func(path string) (Ranker, error) { return asLightGBM(gbdt.LoadFile(path)) },
	},
}

// attentionRanker adapts the DIN-style ranker.
type attentionRanker struct{ *attention.Model }

// asAttention adapts what trains or loads an attention ranker: the ranker, or the error.
func asAttention(m *attention.Model, err error) (Ranker, error) {
	if err != nil {
		return nil, err
	}
	return attentionRanker{m}, nil
}

func (a attentionRanker) Score(ctx context.Context, q candidates.Query, items []int32, dense, dst []float32) error {
	return a.Model.Score(ctx, q.History, items, dense, dst)
}

// lightGBMDefaults are the LightGBM ranker's defaults in a pipeline file: LightGBM's, with more
// and slower trees, at least 50 rows a leaf, L2, bagging, and early stopping on ndcg@10.
func lightGBMDefaults() gbdt.Params {
	p := gbdt.DefaultParams(gbdt.ObjectiveLambdarank)
	p.NumTrees, p.LearningRate, p.MinDataInLeaf, p.LambdaL2 = 300, 0.05, 50, 1
	p.FeatureFraction, p.BaggingFraction, p.BaggingFreq = 0.9, 0.9, 1
	p.EarlyStoppingRounds, p.EvalAt, p.Seed = 30, []int{10}, 1
	return p
}

// LightGBMData converts a ranking set into LightGBM training data: one query group per request,
// one row per candidate, the candidates' weights when any request has them (nil for a nil set).
func LightGBMData(s *ranker.Set) *gbdt.Dataset {
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
			if r.Weights != nil {
				// Rows before the first weighted request weigh 1.
				for len(d.Weights) < len(d.Labels)-1 {
					d.Weights = append(d.Weights, 1)
				}
				d.Weights = append(d.Weights, float64(r.Weights[j]))
			} else if d.Weights != nil {
				d.Weights = append(d.Weights, 1)
			}
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

// asLightGBM adapts what trains or loads a LightGBM model: the ranker, or the error.
func asLightGBM(m *gbdt.Model, err error) (Ranker, error) {
	if err != nil {
		return nil, err
	}
	return &lightGBMRanker{m: m, pool: sync.Pool{New: func() any { return new([]float64) }}}, nil
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

func (l *lightGBMRanker) Save(path string) (string, error) { return l.m.Save(path) }

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
	out.Items, out.Labels, out.Dense, out.Weights = nil, nil, nil, nil
	for i := range r.Items {
		if drop[i] {
			continue
		}
		out.Items = append(out.Items, r.Items[i])
		out.Labels = append(out.Labels, r.Labels[i])
		out.Dense = append(out.Dense, r.Row(i, nf)...)
		if r.Weights != nil {
			out.Weights = append(out.Weights, r.Weights[i])
		}
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
