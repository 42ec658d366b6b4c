package dataset

import (
	"math"
	"testing"
)

func TestTemporalSplit(t *testing.T) {
	ev := func(u, i int32, ts int64) Event { return Event{User: u, Item: i, Time: ts, Value: float32(math.NaN())} }
	cases := []struct {
		name      string
		times     []int64
		frac      float64
		wantTrain int
		wantCut   int64
	}{
		// 10 events: cut = time of event 9 (0-based) → 9 train events.
		{"distinct", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.9, 9, 10},
		// Ties at the cut all go to test: event 9 has time 8, so events with time 8 are test.
		{"tie at cut", []int64{1, 2, 3, 4, 5, 6, 7, 8, 8, 8}, 0.9, 7, 8},
		{"half", []int64{1, 1, 2, 2}, 0.5, 2, 2},
		{"all equal", []int64{5, 5, 5}, 0.9, 0, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events := make([]Event, len(c.times))
			for i, ts := range c.times {
				events[i] = ev(int32(i%3), int32(i), ts)
			}
			s := TemporalSplit(events, c.frac)
			if len(s.Train) != c.wantTrain || s.Cut != c.wantCut || len(s.Train)+len(s.Test) != len(events) {
				t.Fatalf("train %d cut %d, want %d and %d", len(s.Train), s.Cut, c.wantTrain, c.wantCut)
			}
			if s.TrainItems != c.wantTrain {
				t.Fatalf("train items %d, want %d", s.TrainItems, c.wantTrain)
			}
		})
	}
	if s := TemporalSplit(nil, 0.9); len(s.Train)+len(s.Test) != 0 {
		t.Fatal("empty")
	}
}

func TestUserItemMatrix(t *testing.T) {
	events := []Event{
		{User: 1, Item: 2, Value: 4}, {User: 0, Item: 1, Value: 3}, {User: 1, Item: 2, Value: 2},
		{User: 1, Item: 0, Value: 5}, {User: 2, Item: 9, Value: 1}, // item 9 is outside the 3-item catalog
	}
	m := UserItemMatrix(events, 3, 3, Count)
	if m.NNZ() != 3 {
		t.Fatalf("nnz %d", m.NNZ())
	}
	idx, val := m.Row(1)
	if len(idx) != 2 || idx[0] != 0 || idx[1] != 2 || val[1] != 2 {
		t.Fatalf("row 1 = %v %v", idx, val)
	}
	last := UserItemMatrix(events, 3, 3, LastValue)
	if _, v := last.Row(1); v[1] != 2 {
		t.Fatalf("last value %v, want the later rating 2", v)
	}
	tr := m.Transpose()
	if idx, val := tr.Row(2); len(idx) != 1 || idx[0] != 1 || val[0] != 2 {
		t.Fatalf("transpose row 2 = %v %v", idx, val)
	}
	if back := tr.Transpose(); back.NNZ() != m.NNZ() || back.Indptr[2] != m.Indptr[2] {
		t.Fatal("double transpose differs")
	}
}
