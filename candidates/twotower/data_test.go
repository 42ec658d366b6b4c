package twotower

import (
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
)

// Event types restrict the training examples, never the history.
func TestTrainSamplesTargets(t *testing.T) {
	// user 0: view a, view b, buy c; user 1: buy a, cart b. Types: 0 view, 1 cart, 2 buy.
	events := []dataset.Event{
		{User: 0, Item: 0, Time: 1, Type: 0}, {User: 1, Item: 0, Time: 2, Type: 2}, {User: 0, Item: 1, Time: 3, Type: 0},
		{User: 1, Item: 1, Time: 4, Type: 1}, {User: 0, Item: 2, Time: 5, Type: 2},
	}
	s := newSeqs(events, 2)
	cases := []struct {
		name    string
		targets dataset.TypeSet
		want    []int32 // the examples' items
	}{
		{"every type", nil, []int32{1, 2, 1}},
		{"cart and buy", dataset.TypeSet{false, true, true}, []int32{2, 1}},
		{"buy", dataset.TypeSet{false, false, true}, []int32{2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []int32
			for _, sm := range trainSamples(s, 3, c.targets) {
				got = append(got, s.items[sm.idx])
				if len(s.history(sm)) == 0 {
					t.Fatal("an example without history")
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("examples %v, want %v", got, c.want)
			}
		})
	}
}
