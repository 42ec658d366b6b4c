package simulate

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"

	"github.com/cascade-rec/cascade/candidates"
)

// Request is one user's turn in a round, as a policy sees it.
type Request struct {
	Round int
	User  int   // synth user index
	Time  int64 // Unix seconds
	K     int
	state *userState
	// Affinity is the user's true affinity for every item now; only the oracle may look.
	Affinity []float64
	Rand     *rand.Rand

	historyLen int // len(state.items) when served
}

// Seen reports whether the user has already consumed item i (policies never show it again).
func (r *Request) Seen(i int) bool { return r.state.seen[i] }

// Slot is one shown item.
type Slot struct {
	Item     int // synth item index
	Position int // 1-based
	Score    float64
	// Propensity is the probability that the policy put this item at this position given the
	// items above it (1 for a deterministic policy). The slate's probability is their product.
	Propensity float64
	// Features is the cascade policy's feature row for the item (nil for the baselines).
	Features []float32
	Sources  map[string]int
}

// Served is what a policy showed one user and what happened.
type Served struct {
	Request *Request
	Slots   []Slot
	Clicked []bool // per slot
	// Candidates is the cascade policy's candidate list the slate was chosen from (synth
	// indices); nil for the baselines.
	Candidates   []int
	FeatureNames []string
	Fallback     bool
	// Query is the cascade policy's request to the pipeline (the history as it was then): the
	// re-ranker's data are built from it.
	Query candidates.Query
}

// Policy chooses slates. Serve is called concurrently for different users of a round; Learn
// runs once at the round's end with everything the policy served in it.
type Policy interface {
	Name() string
	Serve(ctx context.Context, req *Request) (Served, error)
	Learn(ctx context.Context, round int, served []Served) error
}

// ranked returns the first k unseen items of order as a deterministic slate.
func ranked(req *Request, order []int, score func(int) float64) []Slot {
	var slots []Slot
	for _, i := range order {
		if len(slots) == req.K {
			break
		}
		if !req.Seen(i) {
			slots = append(slots, Slot{Item: i, Position: len(slots) + 1, Score: score(i), Propensity: 1})
		}
	}
	return slots
}

// oracle shows the k unseen items of highest true affinity: with examination falling with the
// position and attraction rising with affinity, that is the slate of highest expected reward.
type oracle struct{}

func (oracle) Name() string { return "oracle" }

func (oracle) Serve(_ context.Context, req *Request) (Served, error) {
	order := make([]int, len(req.Affinity))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(req.Affinity[b], req.Affinity[a]), cmp.Compare(a, b))
	})
	return Served{Request: req, Slots: ranked(req, order, func(i int) float64 { return req.Affinity[i] })}, nil
}

func (oracle) Learn(context.Context, int, []Served) error { return nil }

// popularity shows the k unseen items with the most events in the world's log.
type popularity struct {
	order []int
	count []int
}

func newPopularity(items int, events func(yield func(item int) bool)) *popularity {
	p := &popularity{count: make([]int, items), order: make([]int, items)}
	for i := range events {
		p.count[i]++
	}
	for i := range p.order {
		p.order[i] = i
	}
	slices.SortFunc(p.order, func(a, b int) int { return cmp.Or(cmp.Compare(p.count[b], p.count[a]), cmp.Compare(a, b)) })
	return p
}

func (*popularity) Name() string { return "popularity" }

func (p *popularity) Serve(_ context.Context, req *Request) (Served, error) {
	return Served{Request: req, Slots: ranked(req, p.order, func(i int) float64 { return float64(p.count[i]) })}, nil
}

func (*popularity) Learn(context.Context, int, []Served) error { return nil }

// random shows k unseen items drawn uniformly without replacement.
type random struct{ items int }

func (random) Name() string { return "random" }

func (r random) Serve(_ context.Context, req *Request) (Served, error) {
	var pool []int
	for i := range r.items {
		if !req.Seen(i) {
			pool = append(pool, i)
		}
	}
	var slots []Slot
	for len(slots) < req.K && len(pool) > 0 {
		j := req.Rand.IntN(len(pool))
		slots = append(slots, Slot{Item: pool[j], Position: len(slots) + 1, Propensity: 1 / float64(len(pool))})
		pool[j] = pool[len(pool)-1]
		pool = pool[:len(pool)-1]
	}
	return Served{Request: req, Slots: slots}, nil
}

func (random) Learn(context.Context, int, []Served) error { return nil }
