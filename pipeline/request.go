package pipeline

import (
	"context"
	"errors"
	"time"

	"github.com/cascade-rec/cascade/candidates"
)

// Query is one request in the bundle's dense ID space: what the server (whose history store keeps
// dense IDs) and replay hand to RecommendDense. Programs holding external IDs call Recommend.
type Query struct {
	candidates.Query
	// Skip leaves out items besides the filter's: the caller's exclusions (may be nil).
	Skip func(int32) bool
	// K is the number of items wanted; 0 or more than the file's final.k means final.k.
	K int
	// Explain asks for each final item's source ranks, feature values and ranker scores.
	Explain bool
}

// Result is a pipeline's answer: the final list and what each stage did.
type Result struct {
	Items  []candidates.Candidate
	Stages []StageResult
	// Fallback says the history holds no item of the models' catalog, so the answer is the
	// fallback model's non-personal list (replay-v1's rule for such steps).
	Fallback bool
	// Degraded says the personal path failed or ran out of time, or the caller shed the request:
	// the answer is the fallback model's precomputed list, filtered. Reason says why.
	Degraded bool
	Reason   string
	// Explain is set when Query.Explain asks for it (and the answer is personal).
	Explain *Explanation
}

// StageResult is one stage's output list, timing and whether it fell back.
type StageResult struct {
	Name     string
	Items    []candidates.Candidate
	In, Out  int
	Duration time.Duration
	// Fallback says the stage failed or ran out of budget and its declared fallback was used
	// (a source: the fallback model's list; features or a ranker: the previous order), or that
	// the whole answer is the fallback's (Result.Fallback, Result.Degraded).
	Fallback bool
	Err      string // why it fell back
}

// RecommendDense answers q: the whole request path with one policy for every caller.
//   - A history with no item of the models' catalog gets the fallback model's list.
//   - Otherwise the stages run: sources under their budgets (a failing source is replaced by the
//     fallback model's list), merge, filter, features and rankers (a failing one keeps the
//     previous order), top k.
//   - If that fails or ctx's deadline passes, the answer is the precomputed fallback list, marked
//     Degraded: a request out of time still gets a list.
//
// Seen items are left out when the file's filter says so (the default), as are the filter's
// exclude list and rules and q.Skip. The only error is ctx being canceled (the caller gave up).
func (p *Pipeline) RecommendDense(ctx context.Context, q Query) (Result, error) {
	var res Result
	err := ctx.Err() // a request already out of time runs no stage
	switch {
	case err != nil:
	case p.knowsAny(q.History):
		res, err = p.run(ctx, q)
	default:
		res, err = p.fallbackAnswer(ctx, q)
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Result{}, ctx.Err()
		}
		return p.Degraded(q, err), nil
	}
	res.Items = res.Items[:min(len(res.Items), p.finalK(q.K))]
	return res, nil
}

// knowsAny reports whether history holds an item of the models' catalog (replay-v1 §3: a step
// without one is answered by the fallback).
func (p *Pipeline) knowsAny(history []int32) bool {
	for _, it := range history {
		if it >= 0 && int(it) < p.numItems {
			return true
		}
	}
	return false
}

func (p *Pipeline) finalK(k int) int {
	if k <= 0 || k > p.cfg.Final.K {
		return p.cfg.Final.K
	}
	return k
}

// run is the personal path: retrieve, then the feature stage and rankers.
func (p *Pipeline) run(ctx context.Context, q Query) (Result, error) {
	var res Result
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	current, err := p.retrieve(ctx, sc, q.Query, q.Skip, &res)
	if err != nil {
		return res, err
	}
	if len(p.rankers) > 0 && len(current) > 0 {
		if current, err = p.rank(ctx, sc, q.Query, current, &res, q.Explain); err != nil {
			return res, err
		}
	}
	res.Items = current
	return res, nil
}
