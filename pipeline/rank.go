package pipeline

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/ranker"
)

// featureMatrix computes the wide feature matrix of items into sc.wide (extractor columns
// filled, the position column at ranker.ServePosition, ranker columns NaN).
func (p *Pipeline) featureMatrix(ctx context.Context, sc *scratch, q candidates.Query, items []int32) error {
	sc.batch.Reset(q, items)
	for i, s := range p.sources {
		sc.batch.AddSource(s.name, sc.lists[i])
	}
	w := len(p.wide)
	sc.wide = kernel.Grow(sc.wide, len(items)*w)
	for i := range sc.wide {
		sc.wide[i] = float32(math.NaN())
	}
	if err := p.extract.Fill(ctx, &sc.batch, sc.wide, w); err != nil {
		return err
	}
	if p.pos >= 0 {
		for i := range items {
			sc.wide[i*w+p.pos] = ranker.ServePosition
		}
	}
	return nil
}

// rank runs the feature stage and the rankers over the merged candidates. A stage that fails or
// runs out of its budget keeps the previous order; only the request's own context ending is an error.
func (p *Pipeline) rank(ctx context.Context, sc *scratch, q candidates.Query, merged []candidates.Candidate, res *Result, explain bool) ([]candidates.Candidate, error) {
	start := time.Now()
	sc.items = sc.items[:0]
	for _, c := range merged {
		sc.items = append(sc.items, c.Item)
	}
	fctx, cancel := withBudget(ctx, ms(p.cfg.Features.BudgetMS))
	err := p.featureMatrix(fctx, sc, q, sc.items)
	cancel()
	st := StageResult{Name: "features", In: len(merged), Out: len(merged), Duration: time.Since(start)}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Without features no ranker can run: keep the merged order.
		st.Fallback, st.Err = true, err.Error()
		res.Stages = append(res.Stages, st)
		return merged, nil
	}
	res.Stages = append(res.Stages, st)
	w := len(p.wide)
	// order holds row indexes of the wide matrix, best first.
	sc.order = sc.order[:0]
	for i := range merged {
		sc.order = append(sc.order, i)
	}
	current := merged
	for ri, r := range p.rankers {
		start := time.Now()
		n := len(sc.order)
		sc.cols = kernel.Grow(sc.cols, n*len(r.cols))
		ids := sc.ids[:0]
		for k, row := range sc.order {
			src := sc.wide[row*w:]
			dst := sc.cols[k*len(r.cols) : (k+1)*len(r.cols)]
			for j, c := range r.cols {
				dst[j] = src[c]
			}
			ids = append(ids, sc.items[row])
		}
		sc.ids = ids
		sc.scores = kernel.Grow(sc.scores, n)
		rctx, cancel := withBudget(ctx, r.budget)
		err := r.m.Score(rctx, q, ids, sc.cols, sc.scores)
		cancel()
		st := StageResult{Name: r.name, In: n}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			st.Fallback, st.Err = true, err.Error() // keep the previous order
		} else {
			col := p.base + ri
			for k, row := range sc.order {
				sc.wide[row*w+col] = sc.scores[k]
			}
			// Sort rows by score (desc), ties by the previous order.
			perm := sc.perm[:0]
			for k := 0; k < n; k++ {
				perm = append(perm, k)
			}
			sc.perm = perm
			scores := sc.scores[:n]
			slices.SortStableFunc(perm, func(a, b int) int {
				switch {
				case scores[a] > scores[b]:
					return -1
				case scores[a] < scores[b]:
					return 1
				}
				return 0
			})
			if cap(sc.next) < n {
				sc.next = make([]int, n)
			}
			next := sc.next[:n]
			ranked := make([]candidates.Candidate, n) // returned to the caller: not pooled
			for k, pk := range perm {
				next[k] = sc.order[pk]
				ranked[k] = candidates.Candidate{Item: sc.items[sc.order[pk]], Score: scores[pk]}
			}
			copy(sc.order, next)
			current = ranked
		}
		if r.keep > 0 && len(current) > r.keep {
			current = current[:r.keep]
			sc.order = sc.order[:r.keep]
		}
		st.Items, st.Out, st.Duration = current, len(current), time.Since(start)
		res.Stages = append(res.Stages, st)
	}
	if explain {
		res.Explain = p.explain(sc, current)
	}
	return current, nil
}
