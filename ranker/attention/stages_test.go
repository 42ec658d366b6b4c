package attention

import (
	"context"
	"math"

	"github.com/cascade-rec/cascade/candidates"
)

// sourceStages are the tests' first stage for ranker.Build: a source's top k unseen items (the
// fallback's when the source proposes none), with the source's own view and the popularity prior
// as features.
type sourceStages struct {
	source, fallback candidates.Source
	k                int
	logPrior         func(item int32) float32
}

func (s sourceStages) FeatureNames() []string {
	return []string{"source_score", "source_rank", "item_log_prior", "history_len_log1p"}
}

func (s sourceStages) Candidates(ctx context.Context, q candidates.Query, extra func([]int32) []int32) ([]int32, []float32, error) {
	seen := make(map[int32]bool, len(q.History))
	for _, it := range q.History {
		seen[it] = true
	}
	skip := func(it int32) bool { return seen[it] }
	cands, err := s.source.Recommend(ctx, q, s.k, skip, nil)
	if err == nil && len(cands) == 0 && s.fallback != nil {
		cands, err = s.fallback.Recommend(ctx, q, s.k, skip, nil)
	}
	if err != nil || len(cands) == 0 {
		return nil, nil, err
	}
	items := make([]int32, len(cands))
	for i, c := range cands {
		items[i] = c.Item
	}
	if extra != nil {
		items = append(items, extra(items)...)
	}
	hist := float32(math.Log1p(float64(len(q.History))))
	dense := make([]float32, 0, 4*len(items))
	for i, it := range items {
		score := float32(math.NaN()) // random negatives were not scored by the source
		if i < len(cands) {
			score = cands[i].Score
		}
		dense = append(dense, score, float32(i), s.logPrior(it), hist)
	}
	return items, dense, nil
}
