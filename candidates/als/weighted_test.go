package als

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
)

// TestIALSWeighted: an event of weight w is w events of weight 1 (the oracle: replicate every
// event by its integer weight and train unweighted), and the weights change the model.
func TestIALSWeighted(t *testing.T) {
	const users, items = 12, 9
	rng := rand.New(rand.NewPCG(5, 6))
	var events []dataset.Event
	for u := range users {
		for range 4 {
			events = append(events, dataset.Event{User: int32(u), Item: int32(rng.IntN(items)), Type: uint8(rng.IntN(3))})
		}
	}
	p := testIALSParams()
	p.Factors, p.Iterations = 4, 5
	train := func(events []dataset.Event, w dataset.TypeWeights) []float32 {
		t.Helper()
		m, _, err := TrainIALSWeighted(context.Background(), events, users, items, w, p, quiet)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Concat(m.UserFactors(), m.ItemFactors())
	}
	plain := train(events, nil)
	cases := []struct {
		name string
		w    dataset.TypeWeights
		same bool // equal to the unweighted model
	}{
		{"ones", dataset.TypeWeights{1, 1, 1}, true},
		{"view cart buy", dataset.TypeWeights{1, 4, 10}, false},
		{"short table", dataset.TypeWeights{2}, false}, // types 1 and 2 weigh 1
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var replicated []dataset.Event
			for _, e := range events {
				for range int(c.w.Of(e.Type)) {
					replicated = append(replicated, dataset.Event{User: e.User, Item: e.Item})
				}
			}
			got, oracle := train(events, c.w), train(replicated, nil)
			if !slices.Equal(got, oracle) {
				t.Fatal("weighted iALS differs from iALS on the events replicated by weight")
			}
			if slices.Equal(got, plain) != c.same {
				t.Fatalf("equal to the unweighted model: %v, want %v", !c.same, c.same)
			}
		})
	}
	if m, _, err := TrainIALS(context.Background(), events, users, items, p, quiet); err != nil || !slices.Equal(slices.Concat(m.UserFactors(), m.ItemFactors()), plain) {
		t.Fatalf("TrainIALS must be TrainIALSWeighted with nil weights (%v)", err)
	}
}
