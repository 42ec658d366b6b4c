package candidates

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTopK checks TopK against a full sort under Better, with ties and a skip.
func TestTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	scores := make([]float32, 400)
	for i := range scores {
		scores[i] = float32(rng.IntN(25))
	}
	skip := func(id int32) bool { return id%3 == 0 }
	for _, k := range []int{0, 1, 5, 100, 1000} {
		var all []Candidate
		for i, s := range scores {
			if !skip(int32(i)) {
				all = append(all, Candidate{Item: int32(i), Score: s})
			}
		}
		slices.SortFunc(all, func(a, b Candidate) int {
			if Better(a, b) {
				return -1
			}
			if Better(b, a) {
				return 1
			}
			return 0
		})
		want := all[:min(k, len(all))]
		if got := TopK(scores, k, skip, make([]Candidate, 7)); !slices.Equal(got, want) {
			t.Errorf("k=%d: got %v, want %v", k, got, want)
		}
	}
}

func TestBetter(t *testing.T) {
	for _, tc := range []struct {
		a, b Candidate
		want bool
	}{
		{Candidate{1, 2}, Candidate{0, 1}, true},
		{Candidate{0, 1}, Candidate{1, 2}, false},
		{Candidate{3, 1}, Candidate{4, 1}, true},
		{Candidate{4, 1}, Candidate{3, 1}, false},
		{Candidate{4, 1}, Candidate{4, 1}, false},
	} {
		if got := Better(tc.a, tc.b); got != tc.want {
			t.Errorf("Better(%v, %v) = %v", tc.a, tc.b, got)
		}
	}
}

func TestTopKSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	scores := make([]float32, 2000)
	for i := range scores {
		scores[i] = float32(i % 101)
	}
	dst := make([]Candidate, 0, 50)
	if n := testing.AllocsPerRun(20, func() { dst = TopK(scores, 50, nil, dst) }); n != 0 {
		t.Errorf("%v allocations per call", n)
	}
}

func BenchmarkTopK(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	scores := make([]float32, 10_000)
	for i := range scores {
		scores[i] = float32(rng.NormFloat64())
	}
	dst := make([]Candidate, 0, 200)
	for b.Loop() {
		dst = TopK(scores, 200, nil, dst)
	}
}
