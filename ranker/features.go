package ranker

import (
	"context"
	"fmt"
	"math"

	"github.com/cascade-rec/cascade/candidates"
)

// FeatureProvider computes dense features of candidates for a request. The builders call every
// provider of their options in turn, each filling its own block of columns; the full feature
// stage will plug in here. Implementations must be safe for concurrent use.
type FeatureProvider interface {
	// FeatureNames lists the columns the provider writes, in order.
	FeatureNames() []string
	// Features writes the values of candidate i to dst[i*stride : i*stride+len(FeatureNames())].
	// cands are in the candidate stage's order with its scores (for logged slates: the shown
	// order, Score = the logging propensity); q.History is the full history before the request.
	Features(ctx context.Context, q candidates.Query, cands []candidates.Candidate, dst []float32, stride int) error
}

// SourceFeatures gives the candidate stage's own view: "source_score" (the source's score) and
// "source_rank" (0-based position in its list; random negatives sit after the list).
type SourceFeatures struct{}

// FeatureNames implements FeatureProvider.
func (SourceFeatures) FeatureNames() []string { return []string{"source_score", "source_rank"} }

// Features implements FeatureProvider.
func (SourceFeatures) Features(_ context.Context, _ candidates.Query, cands []candidates.Candidate, dst []float32, stride int) error {
	for i, c := range cands {
		dst[i*stride] = c.Score
		dst[i*stride+1] = float32(i)
	}
	return nil
}

// PriorFeature gives "item_log_prior", log P(item) from a popularity model (or any function of
// the item): the popularity prior rankers need to trade relevance against popularity.
type PriorFeature struct {
	// LogPrior returns log P(item); popularity.Model.LogPrior fits.
	LogPrior func(item int32) float32
}

// FeatureNames implements FeatureProvider.
func (PriorFeature) FeatureNames() []string { return []string{"item_log_prior"} }

// Features implements FeatureProvider.
func (p PriorFeature) Features(_ context.Context, _ candidates.Query, cands []candidates.Candidate, dst []float32, stride int) error {
	if p.LogPrior == nil {
		return fmt.Errorf("ranker: PriorFeature without a LogPrior function")
	}
	for i, c := range cands {
		dst[i*stride] = p.LogPrior(c.Item)
	}
	return nil
}

// HistoryLength gives "history_len_log1p", ln(1 + number of history items): how much the other
// features (and an attention model) have to go on. The logarithm tames the heavy tail.
type HistoryLength struct{}

// FeatureNames implements FeatureProvider.
func (HistoryLength) FeatureNames() []string { return []string{"history_len_log1p"} }

// Features implements FeatureProvider.
func (HistoryLength) Features(_ context.Context, q candidates.Query, cands []candidates.Candidate, dst []float32, stride int) error {
	v := float32(math.Log1p(float64(len(q.History))))
	for i := range cands {
		dst[i*stride] = v
	}
	return nil
}

// featureNames concatenates the providers' schemas and rejects repeated names.
func featureNames(ps []FeatureProvider) ([]string, error) {
	var names []string
	seen := make(map[string]bool)
	for _, p := range ps {
		for _, name := range p.FeatureNames() {
			if seen[name] {
				return nil, fmt.Errorf("ranker: feature %q is provided twice", name)
			}
			seen[name] = true
			names = append(names, name)
		}
	}
	return names, nil
}

// computeFeatures runs the providers on one request, filling dense (len(cands) × nf).
func computeFeatures(ctx context.Context, ps []FeatureProvider, q candidates.Query, cands []candidates.Candidate, dense []float32, nf int) error {
	col := 0
	for _, p := range ps {
		w := len(p.FeatureNames())
		if len(cands) > 0 && w > 0 {
			if err := p.Features(ctx, q, cands, dense[col:], nf); err != nil {
				return fmt.Errorf("ranker: features %v: %w", p.FeatureNames(), err)
			}
		}
		col += w
	}
	return nil
}
