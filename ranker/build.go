package ranker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
)

// Stages propose a query's candidates and fill their features: the candidate and feature stages a
// ranking set is built with (in Cascade, a pipeline's retrieve, filter and feature stages, so that
// rankers learn from what serving computes). Build calls them from several goroutines.
type Stages interface {
	// FeatureNames names the dense columns Candidates fills, in order.
	FeatureNames() []string
	// Candidates returns q's candidates, best first, and their features: len(FeatureNames()) a
	// row, row-major. When extra is not nil and something was proposed, Candidates calls it once
	// with the proposed list, before returning; the items it returns follow the list and get
	// features too (features may depend on the whole list). Nothing proposed: no items.
	Candidates(ctx context.Context, q candidates.Query, extra func(proposed []int32) []int32) (items []int32, dense []float32, err error)
}

// BuildOptions configure Build.
type BuildOptions struct {
	// Horizon widens the labels: besides the event's item, every item the user takes at most
	// Horizon after it (later events of the window) is a positive. 0 still counts the items of
	// later events at the same instant.
	Horizon time.Duration
	// MaxPerUser keeps at most this many events of each user, evenly spaced over the user's
	// events in the window (pickSteps); then MaxRequests keeps at most this many, evenly spaced.
	// 0 means no cap.
	MaxPerUser, MaxRequests int
	// RandomNegatives appends ⌊RandomNegatives·min(proposed, max(Negatives, 1))⌋ uniformly
	// random catalog items, neither in the history nor proposed, to each list (labelled like the
	// others, usually 0): a share of the Negatives proposed negatives a trainer keeps.
	RandomNegatives float64
	Negatives       int
	// Seed drives the random negatives. Each worker draws from its own stream, seeded by the
	// first request of its share, so the draws depend on Workers.
	Seed uint64
	// Workers splits the requests into that many contiguous shares (0 = GOMAXPROCS).
	Workers int
	// Positives, when set, are the event types that make a positive (e.g. carts and purchases):
	// requests are built only at their events, and only their items within the horizon are
	// labelled 1. Events of other types stay in the history.
	Positives dataset.TypeSet
}

func (o *BuildOptions) validate() error {
	switch {
	case o.Horizon < 0:
		return fmt.Errorf("ranker: BuildOptions.Horizon = %v, want ≥ 0", o.Horizon)
	case o.MaxPerUser < 0 || o.MaxRequests < 0 || o.Negatives < 0:
		return fmt.Errorf("ranker: BuildOptions caps MaxPerUser = %d, MaxRequests = %d, Negatives = %d, want ≥ 0", o.MaxPerUser, o.MaxRequests, o.Negatives)
	case !(o.RandomNegatives >= 0 && o.RandomNegatives <= 100):
		return fmt.Errorf("ranker: BuildOptions.RandomNegatives = %v, want in [0, 100]", o.RandomNegatives)
	}
	return nil
}

// Build builds the ranking set of a window: a request at each event of s.Test of a type in
// opt.Positives (after the caps of opt), with the user's history before it (their events of s.Train and the earlier ones of
// s.Test, with times and ratings, as replay and serving pass them), the candidates and features
// of st, the event's item and what the user takes within opt.Horizon labelled 1 and the other
// candidates 0. Events whose history holds no catalog item (below s.TrainItems) are left out, as
// replay answers them with its fallback, and so are those for which nothing is proposed.
// Requests keep the events' order.
func Build(ctx context.Context, s dataset.Split, st Stages, opt BuildOptions) (*Set, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	byUser := map[int32][]dataset.Event{}
	for _, e := range s.Train {
		byUser[e.User] = append(byUser[e.User], e)
	}
	var steps []rankStep
	for _, e := range s.Test {
		byUser[e.User] = append(byUser[e.User], e)
		if opt.Positives.Has(e.Type) {
			steps = append(steps, rankStep{e.User, len(byUser[e.User]) - 1})
		}
	}
	steps = pickSteps(steps, opt.MaxPerUser, opt.MaxRequests)
	horizon := int64(opt.Horizon / time.Second)
	reqs := make([]Request, len(steps))
	kept := make([]keep, len(steps))
	err := forShares(ctx, len(steps), opt.Workers, opt.Seed, func(ctx context.Context, i int, rng *rand.Rand) error {
		evs := byUser[steps[i].user]
		var err error
		if kept[i], err = buildRequest(ctx, st, evs, steps[i].pos, s.TrainItems, horizon, &opt, rng, &reqs[i]); err != nil {
			return fmt.Errorf("ranker: request of user %d at %d: %w", steps[i].user, evs[steps[i].pos].Time, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	set := &Set{FeatureNames: st.FeatureNames()}
	set.Stats.Events = len(s.Test)
	for i, k := range kept {
		switch k {
		case built:
			set.Requests = append(set.Requests, reqs[i])
		case noHistory:
			set.Stats.NoHistory++
		case noCandidates:
			set.Stats.NoCandidates++
		}
	}
	set.recount()
	return set, nil
}

// forShares calls fn(i, rng) for i in [0, n), split into workers contiguous shares (0 =
// GOMAXPROCS), each on its own goroutine (kernel.For) with its own random stream seeded by (seed,
// the share's first index). The first error cancels the context fn gets and is returned; fn is to
// check it.
func forShares(ctx context.Context, n, workers int, seed uint64, fn func(ctx context.Context, i int, rng *rand.Rand) error) error {
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers = kernel.Workers(workers)
	chunk := (n + workers - 1) / workers
	// fn checks ctx, so that its error (which names the step) is the one returned, not For's.
	err := kernel.For(context.Background(), n, chunk, workers, func(_, lo, hi int) error {
		rng := rand.New(rand.NewPCG(seed, uint64(lo)))
		for i := lo; i < hi; i++ {
			if err := fn(ctx, i, rng); err != nil {
				cancel(err)
				return err
			}
		}
		return nil
	})
	if err != nil && parent.Err() == nil {
		// Another share may have stopped on the cancellation first: the cause is fn's first error.
		return context.Cause(ctx)
	}
	return err
}

// keep says whether a request was built, or why not.
type keep int8

const (
	built keep = iota + 1
	noHistory
	noCandidates
)

// buildRequest builds the request at event pos of a user's events evs into r.
func buildRequest(ctx context.Context, st Stages, evs []dataset.Event, pos, numItems int, horizon int64, opt *BuildOptions, rng *rand.Rand, r *Request) (keep, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	e := evs[pos]
	hist := make([]int32, pos)
	times := make([]int64, pos)
	values := make([]float32, pos)
	known := false
	for k, h := range evs[:pos] {
		hist[k], times[k], values[k] = h.Item, h.Time, h.Value
		known = known || int(h.Item) < numItems
	}
	if !known {
		return noHistory, nil
	}
	q := candidates.Query{User: e.User, History: hist, HistoryTimes: times, HistoryValues: values, Time: e.Time}
	var extra func([]int32) []int32
	added := 0 // random negatives at the end of the list
	if opt.RandomNegatives > 0 {
		extra = func(proposed []int32) []int32 {
			out := randomNegatives(rng, numItems, proposed, hist, int(opt.RandomNegatives*float64(min(len(proposed), max(opt.Negatives, 1)))))
			added = len(out)
			return out
		}
	}
	items, dense, err := st.Candidates(ctx, q, extra)
	if err != nil {
		return 0, err
	}
	if len(items) == 0 {
		return noCandidates, nil
	}
	if nf := len(st.FeatureNames()); len(dense) != len(items)*nf {
		return 0, fmt.Errorf("the stages gave %d feature values for %d candidates × %d features", len(dense), len(items), nf)
	}
	proposed := len(items) - added
	*r = Request{User: e.User, Time: e.Time, History: hist, Items: items, Labels: make([]float32, len(items)), Dense: dense, Target: e.Item, Proposed: proposed}
	// Positives: the target and what the user takes within the horizon.
	for k, it := range items {
		if it == e.Item {
			r.Labels[k] = 1
		}
	}
	for _, f := range evs[pos+1:] {
		if f.Time-e.Time > horizon {
			break
		}
		if !opt.Positives.Has(f.Type) {
			continue
		}
		for k, it := range items {
			if it == f.Item {
				r.Labels[k] = 1
			}
		}
	}
	return built, nil
}

// randomNegatives draws up to want uniformly random items of [0, numItems) that are neither
// proposed nor in the history, giving up after 20 tries per item still wanted.
func randomNegatives(rng *rand.Rand, numItems int, proposed, history []int32, want int) []int32 {
	in := map[int32]bool{}
	for _, it := range proposed {
		in[it] = true
	}
	for _, it := range history {
		in[it] = true
	}
	var out []int32
	for tries := 0; want > 0 && tries < 20*want; tries++ {
		it := int32(rng.IntN(numItems))
		if !in[it] {
			in[it] = true
			out = append(out, it)
			want--
		}
	}
	return out
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
