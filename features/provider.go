package features

import (
	"context"
	"sync"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/internal/kernel"
)

// Provider adapts an Extractor to the ranker package's FeatureProvider contract, which passes
// one candidate list rather than a Batch: the list is recorded as the list of one retrieval
// source (rank = position + 1, the candidates' scores as the source's scores). It is safe for
// concurrent use.
type Provider struct {
	x      *Extractor
	source string
	pool   sync.Pool // *Batch
}

// Provider returns the extractor as a ranker.FeatureProvider whose candidate lists come from
// the retrieval source named source (one of the extractor's sources, or "" when the lists come
// from none of them: the source features are then 0 / NaN).
func (x *Extractor) Provider(source string) *Provider {
	p := &Provider{x: x, source: source}
	p.pool.New = func() any { return new(Batch) }
	return p
}

// FeatureNames returns the extractor's column names. It must not be modified.
func (p *Provider) FeatureNames() []string { return p.x.names }

// Features writes the features of cands (in the candidate stage's order, best first) for q to
// dst[i*stride : i*stride+len(FeatureNames())].
func (p *Provider) Features(ctx context.Context, q candidates.Query, cands []candidates.Candidate, dst []float32, stride int) error {
	b := p.pool.Get().(*Batch)
	defer p.pool.Put(b)
	b.Query = q
	b.Items = kernel.Grow(b.Items, len(cands))
	for i, c := range cands {
		b.Items[i] = c.Item
	}
	b.Sources = b.Sources[:0]
	b.fresh = false
	if p.source != "" {
		if cap(b.Sources) == 0 {
			b.Sources = make([]SourceList, 1)
		}
		b.Sources = b.Sources[:1]
		sl := &b.Sources[0]
		sl.Name = p.source
		sl.Scores = kernel.Grow(sl.Scores, len(cands))
		sl.Ranks = kernel.Grow(sl.Ranks, len(cands))
		for i, c := range cands {
			sl.Scores[i], sl.Ranks[i] = c.Score, int32(i+1)
		}
	}
	err := p.x.Fill(ctx, b, dst, stride)
	b.Query = candidates.Query{} // do not keep the caller's history alive in the pool
	return err
}
