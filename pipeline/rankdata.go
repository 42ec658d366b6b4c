package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/features"
	"github.com/cascade-rec/cascade/ranker"
)

// trainRankingStages builds the feature statistics and trains the rankers.
//
// Windows (no model sees the labels it is judged on): the first-stage models in validModels and
// the statistics used for ranker training data are fit on the validation split's train part; the
// ranking requests are built at the validation events (labels from the validation window only);
// the rankers train on them, each later ranker on later requests than the one before (stacking
// without reusing a ranker's own training requests); finally the statistics are rebuilt on the
// whole train split for serving, as the first-stage models were refit. When the file declares
// more than one ranking stack (optional rankers, ranker grids), chooseStack first picks one by
// replaying the validation split, one window earlier.
func trainRankingStages(ctx context.Context, cfg *Config, ds *dataset.Dataset, split, valid dataset.Split, validModels map[string]Model, params map[string]any, outDir string, man *Manifest, opt Options) error {
	log := opt.logger()
	fc, err := cfg.featureConfig()
	if err != nil {
		return err
	}
	if len(cfg.Rankers) > 0 || opt.OnlyRankingData {
		stacks, err := cfg.rankingStacks()
		if err != nil {
			return err
		}
		st, err := features.Build(ctx, valid.Train, valid.TrainItems, ds, fc)
		if err != nil {
			return fmt.Errorf("feature statistics (validation window): %w", err)
		}
		data := cfg.RankingData.grid()
		chosen := choice{stack: stacks[0], data: data[0]}
		if (len(stacks) > 1 || len(data) > 1) && !opt.OnlyRankingData {
			if chosen, man.StackSelection, err = chooseStack(ctx, cfg, ds, valid, validModels, st, params, stacks, opt); err != nil {
				return err
			}
		}
		start := time.Now()
		p, err := assemble(cfg, validModels, st, nil, ds, valid.TrainItems)
		if err != nil {
			return err
		}
		set, err := buildRankingSet(ctx, p, valid, chosen.data, opt.Workers)
		if err != nil {
			return err
		}
		if opt.RankingData != nil {
			if err := opt.RankingData(set); err != nil {
				return err
			}
		}
		if opt.OnlyRankingData {
			return nil
		}
		info := &RankingDataInfo{HorizonDays: chosen.data.HorizonDays[0], MaxPerUser: chosen.data.MaxPerUser[0], Events: set.Stats.Events, Requests: set.Stats.Requests, WithTarget: set.Stats.WithTarget, WithPositive: set.Stats.WithPositive, PerRanker: map[string]int{}}
		log.Info("ranking data built", "requests", set.Stats.Requests, "with_target", set.Stats.WithTarget, "features", len(set.FeatureNames), "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
		trained, err := newStackTrainer(cfg, set, validModels, valid.TrainItems, opt).train(ctx, chosen.stack)
		if err != nil {
			return err
		}
		man.Rankers = map[string]*ModelEntry{}
		man.RankerStack = chosen.stack.names(cfg)
		for _, ts := range trained {
			if ts.entry.SHA256, err = ts.m.Save(filepath.Join(outDir, ts.entry.Artifact)); err != nil {
				return fmt.Errorf("ranker %s: %w", ts.name, err)
			}
			ts.entry.DataSpan = span(valid.Test)
			man.Rankers[ts.name] = ts.entry
			info.PerRanker[ts.name] = ts.requests
		}
		info.Seconds = time.Since(start).Seconds()
		man.RankingData = info
	}
	st, err := features.Build(ctx, split.Train, split.TrainItems, ds, fc)
	if err != nil {
		return fmt.Errorf("feature statistics: %w", err)
	}
	e := &FeaturesEntry{ModelEntry: ModelEntry{Type: "features", Artifact: "features.stats", DataSpan: span(split.Train)}}
	if e.SHA256, err = st.Save(filepath.Join(outDir, e.Artifact)); err != nil {
		return err
	}
	p, err := assemble(cfg, validModels, st, nil, ds, split.TrainItems)
	if err != nil {
		return err
	}
	e.Schema = p.extract.FeatureNames()
	man.Features = e
	return nil
}

// applyRankers runs trained rankers over requests as serving would: each adds its score column and
// reorders and truncates the candidates.
func applyRankers(ctx context.Context, cfg *Config, rankers []rankerModel, base []string, reqs []ranker.Request) ([]ranker.Request, error) {
	out := make([]ranker.Request, len(reqs))
	for i, r := range reqs {
		names := slices.Clone(base)
		q := candidates.Query{User: r.User, History: r.History, Time: r.Time}
		items, labels, dense := r.Items, r.Labels, r.Dense
		for j, m := range rankers {
			nf := len(names)
			cols, err := columnsOf(m.FeatureNames(), names)
			if err != nil {
				return nil, err
			}
			x := make([]float32, 0, len(items)*len(cols))
			for k := range items {
				row := dense[k*nf : (k+1)*nf]
				for _, c := range cols {
					x = append(x, row[c])
				}
			}
			scores := make([]float32, len(items))
			if err := m.Score(ctx, q, items, x, scores); err != nil {
				return nil, err
			}
			order := make([]int, len(items))
			for k := range order {
				order[k] = k
			}
			slices.SortStableFunc(order, func(a, b int) int {
				switch {
				case scores[a] > scores[b]:
					return -1
				case scores[a] < scores[b]:
					return 1
				}
				return 0
			})
			if keep := cfg.Rankers[j].Keep; keep > 0 && len(order) > keep {
				order = order[:keep]
			}
			ni, nl := make([]int32, len(order)), make([]float32, len(order))
			nd := make([]float32, 0, len(order)*(nf+1))
			for k, o := range order {
				ni[k], nl[k] = items[o], labels[o]
				nd = append(nd, dense[o*nf:(o+1)*nf]...)
				nd = append(nd, scores[o])
			}
			items, labels, dense = ni, nl, nd
			names = append(names, rankerColumn(cfg.Rankers[j].Name))
		}
		r.Items, r.Labels, r.Dense, r.Proposed = items, labels, dense, len(items)
		out[i] = r
	}
	return out, nil
}

func columnsOf(want, have []string) ([]int, error) {
	idx := make(map[string]int, len(have))
	for i, n := range have {
		idx[n] = i
	}
	cols := make([]int, len(want))
	for i, n := range want {
		c, ok := idx[n]
		if !ok {
			return nil, ranker.CheckFeatures(want, have)
		}
		cols[i] = c
	}
	return cols, nil
}

// buildRankingSet runs p's candidate and feature stages at the validation events of s: the
// history is everything of the user before the event; positives are the target and whatever the
// user takes within the horizon (inside the window); the other candidates are negatives.
func buildRankingSet(ctx context.Context, p *Pipeline, s dataset.Split, rd RankingDataConfig, workers int) (*ranker.Set, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	byUser := map[int32][]dataset.Event{}
	for _, e := range s.Train {
		byUser[e.User] = append(byUser[e.User], e)
	}
	var steps []rankStep
	for _, e := range s.Test {
		byUser[e.User] = append(byUser[e.User], e)
		steps = append(steps, rankStep{e.User, len(byUser[e.User]) - 1})
	}
	steps = pickSteps(steps, rd.MaxPerUser[0], rd.MaxRequests)
	horizon := int64(rd.HorizonDays[0] * 86400)
	reqs := make([]ranker.Request, len(steps))
	keep := make([]bool, len(steps))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	chunk := (len(steps) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(steps))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			sc := p.pool.Get().(*scratch)
			defer p.pool.Put(sc)
			rng := rand.New(rand.NewPCG(rd.Seed, uint64(lo)))
			for i := lo; i < hi; i++ {
				st := steps[i]
				evs := byUser[st.user]
				e := evs[st.pos]
				hist := make([]int32, st.pos)
				times := make([]int64, st.pos)
				values := make([]float32, st.pos)
				known := false
				for k, h := range evs[:st.pos] {
					hist[k], times[k], values[k] = h.Item, h.Time, h.Value
					known = known || int(h.Item) < s.TrainItems
				}
				if !known {
					continue // replay answers these with the fallback; nothing to rank
				}
				// The query carries what replay and serving pass (times and ratings), so that the
				// features rankers learn from are the ones they will see.
				q := candidates.Query{User: st.user, History: hist, HistoryTimes: times, HistoryValues: values, Time: e.Time}
				r, err := p.rankingRequest(ctx, sc, q, rd, s.TrainItems, rng)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if r == nil {
					continue
				}
				r.Target = e.Item
				for k, it := range r.Items {
					if it == e.Item {
						r.Labels[k] = 1
					}
				}
				for _, f := range evs[st.pos+1:] {
					if f.Time-e.Time > horizon {
						break
					}
					for k, it := range r.Items {
						if it == f.Item {
							r.Labels[k] = 1
						}
					}
				}
				reqs[i], keep[i] = *r, true
			}
		}(lo, hi)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	set := &ranker.Set{FeatureNames: p.extract.FeatureNames()}
	set.Stats.Events = len(s.Test)
	for i, r := range reqs {
		if !keep[i] {
			continue
		}
		set.Requests = append(set.Requests, r)
		set.Stats.Requests++
		if r.HasPositive() {
			set.Stats.WithPositive++
		}
		if slices.Contains(r.Items[:r.Proposed], r.Target) {
			set.Stats.WithTarget++
		}
	}
	return set, nil
}

// rankStep is one event a ranking request is built at.
type rankStep struct {
	user int32
	pos  int // index of the event among the user's events
}

// pickSteps keeps at most perUser steps of each user, evenly spaced over the user's steps, so
// that a few heavy users — a handful hold most events of a MovieLens window — do not make the
// rankers learn their tastes (Covington et al. 2016 give every user the same number of training
// examples for this reason); then at most max steps, evenly spaced. 0 means no cap.
func pickSteps(steps []rankStep, perUser, max int) []rankStep {
	if perUser > 0 {
		count := map[int32]int{}
		for _, st := range steps {
			count[st.user]++
		}
		seen := map[int32]int{}
		var picked []rankStep
		for _, st := range steps {
			n, k := count[st.user], seen[st.user]
			seen[st.user]++
			// The k-th of n steps is kept where ⌊k·perUser/n⌋ steps up: perUser of them.
			if n <= perUser || k*perUser/n != (k+1)*perUser/n {
				picked = append(picked, st)
			}
		}
		steps = picked
	}
	if max > 0 && len(steps) > max {
		picked := make([]rankStep, max)
		for i := range picked {
			picked[i] = steps[i*len(steps)/max]
		}
		steps = picked
	}
	return steps
}

// rankingRequest runs the candidate and feature stages for q (plus random negatives when asked)
// and returns the request with zero labels, or nil when nothing was proposed.
func (p *Pipeline) rankingRequest(ctx context.Context, sc *scratch, q candidates.Query, rd RankingDataConfig, numItems int, rng *rand.Rand) (*ranker.Request, error) {
	var res Result
	merged, err := p.retrieve(ctx, sc, q, nil, &res)
	if err != nil {
		return nil, err
	}
	if len(merged) == 0 {
		return nil, nil
	}
	items := make([]int32, len(merged))
	for i, c := range merged {
		items[i] = c.Item
	}
	proposed := len(items)
	if rd.RandomNegatives > 0 {
		in := map[int32]bool{}
		for _, it := range items {
			in[it] = true
		}
		for _, it := range q.History {
			in[it] = true
		}
		want := int(rd.RandomNegatives * float64(min(len(items), max(rd.Negatives, 1))))
		for tries := 0; want > 0 && tries < 20*want; tries++ {
			it := int32(rng.IntN(numItems))
			if !in[it] {
				in[it] = true
				items = append(items, it)
				want--
			}
		}
	}
	if err := p.featureMatrix(ctx, sc, q, items); err != nil {
		return nil, err
	}
	nf := len(p.extract.FeatureNames())
	return &ranker.Request{
		User: q.User, Time: q.Time, History: q.History, Items: items,
		Labels: make([]float32, len(items)), Dense: slices.Clone(sc.wide[:len(items)*nf]),
		Target: -1, Proposed: proposed,
	}, nil
}
