package pipeline

import (
	"context"
	"fmt"

	"github.com/cascade-rec/cascade/candidates"
)

// reserveSlack is how many items the precomputed fallback list holds beyond the deepest stage, so
// that a long history of seen items or a long exclude list still leaves a full degraded answer.
const reserveSlack = 2048

// depth is the length of the longest stage list: the final list or a source's.
func (p *Pipeline) depth() int {
	n := p.cfg.Final.K
	for _, s := range p.sources {
		n = max(n, s.k)
	}
	return n
}

// reserveList computes the fallback model's non-personal list once, with the filter's exclusions
// applied (seen items and the caller's skip are applied per request).
func (p *Pipeline) reserveList() ([]candidates.Candidate, error) {
	n := min(p.numItems, p.depth()+reserveSlack)
	items, err := p.fallback.Recommend(context.Background(), candidates.Query{User: -1}, n, p.isExcluded, nil)
	if err != nil {
		return nil, fmt.Errorf("the fallback model's list: %w", err)
	}
	return items, nil
}

func (p *Pipeline) isExcluded(id int32) bool {
	if p.filtered(id) {
		return true
	}
	cat := p.catalog.Load()
	return cat != nil && cat.Unavailable(id)
}

// filtered reports whether the file's filter drops item id: the data set's items as marked at
// load, items added live as SyncCatalog found them.
func (p *Pipeline) filtered(id int32) bool {
	if p.excluded == nil {
		return false
	}
	if int(id) < len(p.excluded) {
		return p.excluded[id]
	}
	m := p.liveDropped.Load()
	return m != nil && (*m)[id]
}

// fallbackAnswer answers a history with no known item by the fallback model.
func (p *Pipeline) fallbackAnswer(ctx context.Context, q Query) (Result, error) {
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	drop := p.dropFunc(sc, q.Query, q.Skip)
	items, err := p.fallback.Recommend(ctx, q.Query, p.depth(), drop, nil)
	if err != nil {
		return Result{}, fmt.Errorf("fallback: %w", err)
	}
	res := p.fallbackResult(items, "no history item is in the models' catalog")
	res.Fallback = true
	return res, nil
}

// Degraded answers q from the precomputed fallback list without calling any model, so it cannot
// fail or stall: the answer for a request out of time, a failed pipeline, or one the caller sheds
// under overload. reason says why; seen items (per the filter), the filter's exclusions and
// q.Skip are left out.
func (p *Pipeline) Degraded(q Query, reason error) Result {
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	drop := p.dropFunc(sc, q.Query, q.Skip)
	n := p.depth()
	items := make([]candidates.Candidate, 0, min(n, len(p.reserve)))
	for _, c := range p.reserve {
		if len(items) == n {
			break
		}
		if !drop(c.Item) {
			items = append(items, c)
		}
	}
	msg := "degraded"
	if reason != nil {
		msg = reason.Error()
	}
	res := p.fallbackResult(items, msg)
	res.Fallback, res.Degraded, res.Reason = true, true, msg
	res.Items = res.Items[:min(len(res.Items), p.finalK(q.K))]
	return res
}

// fallbackResult makes the fallback's list stand in for every stage, each cut to the stage's
// size, so that per-stage recall counts fallback answers the way replay-v1 counts them.
func (p *Pipeline) fallbackResult(items []candidates.Candidate, reason string) Result {
	res := Result{Items: items[:min(len(items), p.cfg.Final.K)]}
	for _, s := range p.sources {
		out := items[:min(len(items), s.k)]
		res.Stages = append(res.Stages, StageResult{Name: s.name, Items: out, Out: len(out), Fallback: true, Err: reason})
	}
	if len(p.sources) > 1 {
		res.Stages = append(res.Stages, StageResult{Name: "merged", Items: items, In: len(items), Out: len(items)})
	}
	for _, rk := range p.rankers {
		keep := len(items)
		if rk.keep > 0 {
			keep = min(keep, rk.keep)
		}
		res.Stages = append(res.Stages, StageResult{Name: rk.name, Items: items[:keep], In: len(items), Out: keep})
	}
	return res
}
