package simulate

import (
	"math"
	"slices"

	"github.com/cascade-rec/cascade/synth"
)

// userState is one user's history as one policy's copy of the world knows it: the world's
// events, then the items clicked in the policy's slates.
type userState struct {
	items  []int // synth item indices, time order
	times  []int64
	values []float32 // the world's ratings; NaN for clicks
	seen   []bool    // per item: in items
}

// population holds one policy's users. Only a policy's own clicks enter its users' histories,
// so policies never see each other's effects.
type population struct {
	w     *synth.World
	users map[int]*userState
}

func newPopulation(w *synth.World) *population {
	return &population{w: w, users: map[int]*userState{}}
}

// get returns user u's state, built from the world's events on first use. Not safe for
// concurrent use: the round loop fetches every user before serving in parallel.
func (p *population) get(u int) *userState {
	if s, ok := p.users[u]; ok {
		return s
	}
	evs := p.w.UserEvents(u)
	s := &userState{
		items:  make([]int, len(evs)),
		times:  make([]int64, len(evs)),
		values: make([]float32, len(evs)),
		seen:   make([]bool, len(p.w.Items)),
	}
	for j, e := range evs {
		ev := p.w.Events[e]
		s.items[j], s.times[j], s.values[j] = int(ev.Item), ev.Time, float32(ev.Rating)
		s.seen[ev.Item] = true
	}
	p.users[u] = s
	return s
}

// click appends the clicked items (in position order) to the user's history at time t.
func (s *userState) click(items []int, t int64) {
	for _, i := range items {
		if s.seen[i] {
			continue
		}
		s.items = append(s.items, i)
		s.times = append(s.times, t)
		s.values = append(s.values, float32(math.NaN()))
		s.seen[i] = true
	}
}

// affinities returns the user's true affinity for every item at t given this history.
func (s *userState) affinities(tr *synth.Truth, u int, t int64) []float64 {
	recent := s.items[max(0, len(s.items)-tr.Config.HistoryLen):]
	aff := make([]float64, len(tr.Items))
	for i := range aff {
		aff[i] = tr.Affinity(u, i, t, recent)
	}
	return aff
}

// median is the median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
