package pipeline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cascade-rec/cascade/candidates"
)

// retrieve runs the sources (each under its budget, a failing one replaced by the fallback
// model) and merges their lists. The source lists stay in sc.lists for the feature stage.
func (p *Pipeline) retrieve(ctx context.Context, sc *scratch, q candidates.Query, skip func(int32) bool, res *Result) ([]candidates.Candidate, error) {
	drop := p.dropFunc(sc, q, skip)
	for len(sc.lists) < len(p.sources) {
		sc.lists = append(sc.lists, nil)
	}
	for i, s := range p.sources {
		start := time.Now()
		sctx, cancel := withBudget(ctx, ms(p.cfg.Retrieve.BudgetMS))
		items, err := s.m.Recommend(sctx, q, s.k, drop, sc.lists[i][:0])
		cancel()
		st := StageResult{Name: s.name}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			st.Fallback, st.Err = true, err.Error()
			if items, err = p.fallback.Recommend(ctx, q, s.k, drop, sc.lists[i][:0]); err != nil {
				return nil, fmt.Errorf("source %s and its fallback: %w", s.name, err)
			}
		}
		sc.lists[i] = items
		st.Items = slices.Clone(items)
		st.Out, st.Duration = len(items), time.Since(start)
		res.Stages = append(res.Stages, st)
	}
	start := time.Now()
	merged := p.merge(sc, res.Stages)
	if len(p.sources) > 1 {
		res.Stages = append(res.Stages, StageResult{Name: "merged", Items: merged, In: sumOut(res.Stages), Out: len(merged), Duration: time.Since(start)})
	}
	return merged, nil
}

// dropFunc is the filter stage as a predicate: seen items (when excluded), the exclude list and
// attribute rules, items the living catalog made unavailable, and the caller's skip.
func (p *Pipeline) dropFunc(sc *scratch, q candidates.Query, skip func(int32) bool) func(int32) bool {
	clear(sc.seen)
	if *p.cfg.Filter.ExcludeSeen {
		for _, it := range q.History {
			sc.seen[it] = struct{}{}
		}
	}
	cat := p.catalog.Load()
	return func(id int32) bool {
		if _, ok := sc.seen[id]; ok {
			return true
		}
		if p.filtered(id) {
			return true
		}
		if cat != nil && cat.Unavailable(id) {
			return true
		}
		return skip != nil && skip(id)
	}
}

func sumOut(st []StageResult) int {
	n := 0
	for _, s := range st {
		n += s.Out
	}
	return n
}

func withBudget(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// merge combines the source lists, keeping each item's first position. Scores are the merged
// rank's reciprocal, since scores of different sources are not comparable.
func (p *Pipeline) merge(sc *scratch, stages []StageResult) []candidates.Candidate {
	if len(stages) == 1 {
		return stages[0].Items
	}
	seen := make(map[int32]struct{}, 2*len(stages[0].Items))
	var out []candidates.Candidate
	add := func(c candidates.Candidate) {
		if _, dup := seen[c.Item]; dup {
			return
		}
		seen[c.Item] = struct{}{}
		out = append(out, candidates.Candidate{Item: c.Item, Score: 1 / float32(len(out)+1)})
	}
	switch p.cfg.Retrieve.Merge {
	case "concat":
		for _, s := range stages {
			for _, c := range s.Items {
				add(c)
			}
		}
	default: // interleave
		for r := 0; ; r++ {
			more := false
			for _, s := range stages {
				if r < len(s.Items) {
					add(s.Items[r])
					more = true
				}
			}
			if !more {
				break
			}
		}
	}
	return out
}
