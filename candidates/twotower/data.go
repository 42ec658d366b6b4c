package twotower

import (
	"math/rand/v2"
	"slices"

	"github.com/cascade-rec/cascade/dataset"
)

// seqs holds every user's items in time order: user u's events are [off[u], off[u+1]).
type seqs struct {
	off   []int32
	items []int32
	times []int64
	types []uint8
}

// sample is one training example or validation step: the event at seqs position idx, whose
// history is the user's events before it.
type sample struct {
	user int32
	idx  int32
	// item is the positive: the event's item, or a slate's clicked item (impressions.go).
	item int32
	// negLo, negHi bound the example's own negatives in the trainer's negs (impressions only).
	negLo, negHi int32
}

// newSeqs groups events (in time order) by user, keeping time order within each user. Users
// outside [0, numUsers) are grown into the table.
func newSeqs(events []dataset.Event, numUsers int) *seqs {
	for _, e := range events {
		numUsers = max(numUsers, int(e.User)+1)
	}
	s := &seqs{off: make([]int32, numUsers+1), items: make([]int32, len(events)), times: make([]int64, len(events)), types: make([]uint8, len(events))}
	for _, e := range events {
		s.off[e.User+1]++
	}
	for u := 0; u < numUsers; u++ {
		s.off[u+1] += s.off[u]
	}
	next := slices.Clone(s.off[:numUsers])
	for _, e := range events {
		i := next[e.User]
		next[e.User]++
		s.items[i], s.times[i], s.types[i] = e.Item, e.Time, e.Type
	}
	return s
}

// history returns every item before position idx of user u, oldest first.
func (s *seqs) history(sm sample) []int32 { return s.items[s.off[sm.user]:sm.idx] }

// trainSamples returns one sample per event of a type in targets that has at least one earlier
// event of its user whose item is in the catalog (the query tower needs something to read).
func trainSamples(s *seqs, numItems int, targets dataset.TypeSet) []sample {
	var out []sample
	for u := 0; u+1 < len(s.off); u++ {
		lo, hi := s.off[u], s.off[u+1]
		known := false
		for i := lo; i < hi; i++ {
			if known && int(s.items[i]) < numItems && targets.Has(s.types[i]) {
				out = append(out, sample{user: int32(u), idx: i, item: s.items[i]})
			}
			if int(s.items[i]) < numItems {
				known = true
			}
		}
	}
	return out
}

// validationSteps returns the steps of the validation events (the events of s at or after
// position trainCount[u] within each user) that have a known history item and a target in the
// catalog; at most limit of them, chosen at random with rng when there are more, in time order.
func validationSteps(s *seqs, trainCount []int32, numItems, limit int, rng *rand.Rand) []sample {
	var out []sample
	for u := 0; u+1 < len(s.off); u++ {
		lo, hi := s.off[u], s.off[u+1]
		start := lo
		if u < len(trainCount) {
			start = lo + trainCount[u]
		}
		known := false
		for i := lo; i < hi; i++ {
			if i >= start && known && int(s.items[i]) < numItems {
				out = append(out, sample{user: int32(u), idx: i})
			}
			if int(s.items[i]) < numItems {
				known = true
			}
		}
	}
	if len(out) > limit {
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		out = out[:limit]
		slices.SortFunc(out, func(a, b sample) int {
			if a.user != b.user {
				return int(a.user - b.user)
			}
			return int(a.idx - b.idx)
		})
	}
	return out
}

// itemCounts counts the events of each catalog item.
func itemCounts(events []dataset.Event, numItems int) []float64 {
	c := make([]float64, numItems)
	for _, e := range events {
		if e.Item >= 0 && int(e.Item) < numItems {
			c[e.Item]++
		}
	}
	return c
}
