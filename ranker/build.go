package ranker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// LogOptions configure BuildFromLog.
type LogOptions struct {
	// Source proposes the candidates (required); K is how many it is asked for.
	Source candidates.Source
	K      int
	// Fallback, when set, answers the requests for which Source proposes nothing (a history
	// without a catalog item, for a factor model), as replay-v1 falls back to popularity.
	// Without it such requests are left out and counted in BuildStats.NoCandidates.
	Fallback candidates.Source
	// Horizon widens the labels: besides the event's own item, every item the user takes in
	// (t, t+Horizon) — later events in log order with a time before t+Horizon — is a positive.
	// 0 labels the event's item only, which is replay-v1's target.
	Horizon time.Duration
	// RandomNegatives appends round(RandomNegatives·len(list)) uniformly random catalog items
	// (from [0, NumItems), not seen, not proposed) to each list, labelled like the others.
	RandomNegatives float64
	NumItems        int
	// Features fill the dense columns, in order.
	Features []FeatureProvider
	// MaxHistory keeps only the most recent MaxHistory history items in the set (0 keeps all).
	// The source and the features always see the full history.
	MaxHistory int
	Seed       uint64 // random negatives
	Workers    int    // 0 = GOMAXPROCS; never changes the result
	Progress   progress.Options
}

func (o *LogOptions) validate() error {
	switch {
	case o.Source == nil:
		return errors.New("ranker: LogOptions.Source is nil")
	case o.K < 1:
		return fmt.Errorf("ranker: LogOptions.K = %d, want ≥ 1", o.K)
	case o.Horizon < 0:
		return fmt.Errorf("ranker: LogOptions.Horizon = %v, want ≥ 0", o.Horizon)
	case math.IsNaN(o.RandomNegatives) || o.RandomNegatives < 0 || o.RandomNegatives > 100:
		return fmt.Errorf("ranker: LogOptions.RandomNegatives = %v, want in [0, 100]", o.RandomNegatives)
	case o.RandomNegatives > 0 && o.NumItems < 1:
		return errors.New("ranker: LogOptions.RandomNegatives needs NumItems")
	case o.MaxHistory < 0:
		return fmt.Errorf("ranker: LogOptions.MaxHistory = %d, want ≥ 0", o.MaxHistory)
	}
	return nil
}

// userLog is the log regrouped by user: each user's items and times in log order, and the
// position of every event in its user's list.
type userLog struct {
	items  [][]int32
	times  [][]int64
	values [][]float32 // explicit ratings (NaN if none), so that features match serving's
	pos    []int32     // pos[i]: index of event i in its user's list
}

func groupByUser(log []dataset.Event) (*userLog, error) {
	numUsers := 0
	for i, e := range log {
		if e.User < 0 || e.Item < 0 {
			return nil, fmt.Errorf("ranker: event %d has a negative ID (user %d, item %d)", i, e.User, e.Item)
		}
		if i > 0 && e.Time < log[i-1].Time {
			return nil, fmt.Errorf("ranker: event %d is earlier than event %d: the log must be in time order", i, i-1)
		}
		numUsers = max(numUsers, int(e.User)+1)
	}
	counts := make([]int, numUsers)
	for _, e := range log {
		counts[e.User]++
	}
	ul := &userLog{items: make([][]int32, numUsers), times: make([][]int64, numUsers), values: make([][]float32, numUsers), pos: make([]int32, len(log))}
	for u, c := range counts {
		ul.items[u] = make([]int32, 0, c)
		ul.times[u] = make([]int64, 0, c)
		ul.values[u] = make([]float32, 0, c)
	}
	for i, e := range log {
		ul.pos[i] = int32(len(ul.items[e.User]))
		ul.items[e.User] = append(ul.items[e.User], e.Item)
		ul.times[e.User] = append(ul.times[e.User], e.Time)
		ul.values[e.User] = append(ul.values[e.User], e.Value)
	}
	return ul, nil
}

// BuildFromLog builds a ranking set with one request per event log[from:to] (the window, e.g.
// the validation events): the user's history is their events before it in log order (time
// order; replay-v1 counts earlier ties as history too), opt.Source proposes opt.K candidates
// with the history's items excluded, the event's item and the items the user takes within
// opt.Horizon are labelled 1, the other candidates 0. Labels may use events after to (the log
// is what is known when the set is built). log must be in time order.
func BuildFromLog(ctx context.Context, log []dataset.Event, from, to int, opt LogOptions) (*Set, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if from < 0 || to > len(log) || from > to {
		return nil, fmt.Errorf("ranker: window [%d, %d) outside a log of %d events", from, to, len(log))
	}
	names, err := featureNames(opt.Features)
	if err != nil {
		return nil, err
	}
	ul, err := groupByUser(log)
	if err != nil {
		return nil, err
	}
	maxItem := 0
	for _, e := range log {
		maxItem = max(maxItem, int(e.Item)+1)
	}
	n := to - from
	out := make([]Request, n)
	keep := make([]int8, n) // 1 kept, 2 no history, 3 no candidates
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, n))
	bar := progress.New("ranking set", int64(n), opt.Progress)
	defer bar.Finish()

	const chunk = 64
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			b := &logBuilder{opt: &opt, ul: ul, nf: len(names), seen: make([]uint32, max(maxItem, opt.NumItems))}
			for {
				lo := int(next.Add(chunk) - chunk)
				if lo >= n {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				hi := min(lo+chunk, n)
				for k := lo; k < hi; k++ {
					st, err := b.build(ctx, log, from+k, &out[k])
					if err != nil {
						errs[w] = fmt.Errorf("ranker: event %d: %w", from+k, err)
						return
					}
					keep[k] = st
				}
				bar.Add(hi - lo)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Set{FeatureNames: names}
	s.Stats.Events = n
	for k := range out {
		switch keep[k] {
		case 1:
			s.Requests = append(s.Requests, out[k])
		case 2:
			s.Stats.NoHistory++
		case 3:
			s.Stats.NoCandidates++
		}
	}
	s.recount()
	return s, nil
}

// logBuilder is one worker's state.
type logBuilder struct {
	opt   *LogOptions
	ul    *userLog
	nf    int
	seen  []uint32 // seen[item] == gen marks the current request's history and list
	gen   uint32
	cands []candidates.Candidate
}

// build fills r for event i; it returns 1 when the request is kept, 2 without history, 3 when
// nothing was proposed.
func (b *logBuilder) build(ctx context.Context, log []dataset.Event, i int, r *Request) (int8, error) {
	opt := b.opt
	e := log[i]
	p := int(b.ul.pos[i])
	if p == 0 {
		return 2, nil
	}
	items, times := b.ul.items[e.User], b.ul.times[e.User]
	hist := items[:p:p]
	b.gen++
	if b.gen == 0 { // wrapped: clear stale marks
		clear(b.seen)
		b.gen = 1
	}
	gen := b.gen
	for _, it := range hist {
		b.seen[it] = gen
	}
	skip := func(it int32) bool { return it >= 0 && int(it) < len(b.seen) && b.seen[it] == gen }
	q := candidates.Query{User: e.User, History: hist, HistoryTimes: times[:p:p], HistoryValues: b.ul.values[e.User][:p:p], Time: e.Time}
	var err error
	b.cands, err = opt.Source.Recommend(ctx, q, opt.K, skip, b.cands[:0])
	if err != nil {
		return 0, err
	}
	if len(b.cands) == 0 && opt.Fallback != nil {
		if b.cands, err = opt.Fallback.Recommend(ctx, q, opt.K, skip, b.cands[:0]); err != nil {
			return 0, err
		}
	}
	if len(b.cands) == 0 {
		return 3, nil
	}
	proposed := len(b.cands)
	if opt.RandomNegatives > 0 {
		b.addRandom(ctx, q, i, gen)
	}
	nc := len(b.cands)

	// Positives: the target and what the user takes within the horizon.
	pos := map[int32]bool{e.Item: true}
	if opt.Horizon > 0 {
		end := e.Time + int64(opt.Horizon/time.Second)
		for k := p + 1; k < len(items) && times[k] < end; k++ {
			pos[items[k]] = true
		}
	}
	r.User, r.Time, r.Target, r.Proposed = e.User, e.Time, e.Item, proposed
	if opt.MaxHistory > 0 && len(hist) > opt.MaxHistory {
		r.History = hist[len(hist)-opt.MaxHistory:]
	} else {
		r.History = hist
	}
	r.Items = make([]int32, nc)
	r.Labels = make([]float32, nc)
	for k, c := range b.cands {
		r.Items[k] = c.Item
		if pos[c.Item] {
			r.Labels[k] = 1
		}
	}
	r.Dense = make([]float32, nc*b.nf)
	if err := computeFeatures(ctx, opt.Features, q, b.cands, r.Dense, b.nf); err != nil {
		return 0, err
	}
	return 1, nil
}

// addRandom appends uniformly random negatives to b.cands: catalog items neither seen nor
// proposed, scored by the source when it is a Scorer, else given the list's lowest score.
func (b *logBuilder) addRandom(ctx context.Context, q candidates.Query, i int, gen uint32) {
	opt := b.opt
	proposed := len(b.cands)
	want := int(math.Round(opt.RandomNegatives * float64(proposed)))
	if want == 0 {
		return
	}
	low := b.cands[proposed-1].Score
	for _, c := range b.cands {
		if c.Item >= 0 && int(c.Item) < len(b.seen) {
			b.seen[c.Item] = gen
		}
	}
	// A stream per event keeps the draws independent of the worker that builds it.
	rng := rand.New(rand.NewPCG(opt.Seed, uint64(i)))
	for tries := 0; len(b.cands)-proposed < want && tries < 20*want; tries++ {
		it := int32(rng.IntN(opt.NumItems))
		if b.seen[it] == gen {
			continue
		}
		b.seen[it] = gen
		b.cands = append(b.cands, candidates.Candidate{Item: it, Score: low})
	}
	if sc, ok := opt.Source.(candidates.Scorer); ok {
		extra := b.cands[proposed:]
		items := make([]int32, len(extra))
		for k, c := range extra {
			items[k] = c.Item
		}
		scores := make([]float32, len(extra))
		if sc.Score(ctx, q, items, scores) == nil {
			for k := range extra {
				if finite32(scores[k]) {
					extra[k].Score = scores[k]
				}
			}
		}
	}
}
