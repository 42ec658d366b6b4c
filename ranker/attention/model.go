package attention

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/cascade-rec/cascade/ranker"
)

// Model is a trained attention ranker. It is safe for concurrent use: Score reads the weights
// only and takes its scratch from a pool.
type Model struct {
	p        Params
	features []string
	net      *net
	pool     sync.Pool
}

func newModel(p Params, features []string, nt *net) *Model {
	m := &Model{p: p, features: features, net: nt}
	m.pool.New = func() any { return new(work) }
	return m
}

// Params returns the parameters the model was trained with.
func (m *Model) Params() Params {
	p := m.p
	p.Hidden = slices.Clone(p.Hidden)
	return p
}

// NumItems is the size of the item table: items [0, NumItems) have embeddings; others score
// through their dense features alone.
func (m *Model) NumItems() int { return m.net.numItems }

// FeatureNames is the schema of the dense rows Score expects, in order. It must not be modified.
func (m *Model) FeatureNames() []string { return m.features }

// CheckFeatures reports how names differs from the model's schema (missing, extra or misplaced
// features), or nil when they are the same.
func (m *Model) CheckFeatures(names []string) error {
	if err := ranker.CheckFeatures(m.features, names); err != nil {
		return fmt.Errorf("attention: %w", err)
	}
	return nil
}

// Standardization returns the mean and standard deviation of each feature that the model
// subtracts and divides by (fitted on its training candidates). They must not be modified.
func (m *Model) Standardization() (mean, std []float32) { return m.net.mean, m.net.std }

// Score sets dst[i] to the logit of cands[i] for a user with history (dense item IDs, oldest
// first; the last HistoryLen known items are read) and dense, the candidates' features as
// len(cands) rows of len(FeatureNames()) values in that order (NaN allowed: it reads as the
// training mean). Higher is better; with the bce loss the logit is log-odds of a positive.
// Every candidate is scored in one batch; the history's share of the attention is computed once
// per call. It does not allocate in steady state.
func (m *Model) Score(ctx context.Context, history, cands []int32, dense, dst []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n, nf := len(cands), len(m.features)
	if len(dense) != n*nf {
		return fmt.Errorf("attention: %d dense values for %d candidates × %d features", len(dense), n, nf)
	}
	if len(dst) < n {
		return fmt.Errorf("attention: dst holds %d scores for %d candidates", len(dst), n)
	}
	if n == 0 {
		return nil
	}
	w := m.pool.Get().(*work)
	copy(dst, m.net.forward(w, history, cands, dense, false))
	m.pool.Put(w)
	return nil
}

// ScoreRequest scores a request of a ranking set whose FeatureNames equal the model's (see
// Scorer for a checked adapter).
func (m *Model) ScoreRequest(ctx context.Context, r *ranker.Request, dst []float32) error {
	return m.Score(ctx, r.History, r.Items, r.Dense, dst)
}

// Scorer returns the model as a ranker.ScoreFunc for the requests of s, after checking that s's
// schema is the model's (use Set.Project to reorder or drop columns first).
func (m *Model) Scorer(s *ranker.Set) (ranker.ScoreFunc, error) {
	if err := m.CheckFeatures(s.FeatureNames); err != nil {
		return nil, err
	}
	return m.ScoreRequest, nil
}
