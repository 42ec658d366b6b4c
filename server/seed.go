package server

import "github.com/cascade-rec/cascade/dataset"

// seedHistory is every data set user's last perUser events, the history a user has before the
// live store adds to it. It is read-only and sized by the data set (not by the store's bound),
// since the data set itself is in memory anyway; rows are compressed sparse (off[u]..off[u+1]).
type seedHistory struct {
	off    []int32
	items  []int32
	values []float32
	times  []int64
}

func newSeedHistory(ds *dataset.Dataset, perUser int) *seedHistory {
	count := make([]int32, ds.NumUsers())
	for _, e := range ds.Events {
		count[e.User]++
	}
	s := &seedHistory{off: make([]int32, len(count)+1)}
	for u, c := range count {
		s.off[u+1] = s.off[u] + min(c, int32(perUser))
	}
	n := s.off[len(count)]
	s.items, s.values, s.times = make([]int32, n), make([]float32, n), make([]int64, n)
	next := make([]int32, len(count)) // events of u written so far
	for _, e := range ds.Events {
		u := e.User
		count[u]-- // now: events of u after this one
		if count[u] < int32(perUser) {
			i := s.off[u] + next[u]
			s.items[i], s.values[i], s.times[i] = e.Item, e.Value, e.Time
			next[u]++
		}
	}
	return s
}

// get returns user u's seeded items, values and times, oldest first (empty for u < 0).
func (s *seedHistory) get(u int32) ([]int32, []float32, []int64) {
	if u < 0 || int(u)+1 >= len(s.off) {
		return nil, nil, nil
	}
	a, b := s.off[u], s.off[u+1]
	return s.items[a:b], s.values[a:b], s.times[a:b]
}

// events counts the seeded events.
func (s *seedHistory) events() int { return len(s.items) }
