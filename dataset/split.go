package dataset

import "sort"

// Split is replay-v1's global temporal split of a time-ordered event log.
type Split struct {
	// Cut is the timestamp of event floor(Fraction·N): train holds events before it, test the rest.
	Cut   int64
	Train []Event
	Test  []Event
	// TrainItems and TrainUsers bound the dense IDs seen in train: because IDs are assigned in
	// time order, the train catalog is exactly [0, TrainItems).
	TrainItems int
	TrainUsers int
}

// TemporalSplit applies replay-v1 §2 to events, which must be in time order: cut is the timestamp of
// event number floor(frac·N) (0-based); train is every event with a timestamp below cut. The same
// rule applied to Split.Train gives the validation split used for tuning.
func TemporalSplit(events []Event, frac float64) Split {
	n := len(events)
	if n == 0 {
		return Split{}
	}
	idx := int(frac * float64(n))
	if idx >= n {
		idx = n - 1
	}
	cut := events[idx].Time
	// events are sorted by time, so the first event at or after cut splits them.
	k := sort.Search(n, func(i int) bool { return events[i].Time >= cut })
	s := Split{Cut: cut, Train: events[:k:k], Test: events[k:]}
	for _, e := range s.Train {
		if int(e.Item) >= s.TrainItems {
			s.TrainItems = int(e.Item) + 1
		}
		if int(e.User) >= s.TrainUsers {
			s.TrainUsers = int(e.User) + 1
		}
	}
	return s
}
