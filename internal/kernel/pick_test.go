package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPickFrequencies compares Pick's draws with the weights they should follow.
func TestPickFrequencies(t *testing.T) {
	w := []float64{0, 1, 0, 3, 6, 0}
	r := rand.New(rand.NewPCG(3, 4))
	const n = 200_000
	counts := make([]int, len(w))
	for range n {
		counts[Pick(r.Float64(), w, 10)]++
	}
	for j, c := range counts {
		want := w[j] / 10
		if got := float64(c) / n; math.Abs(got-want) > 0.005 {
			t.Errorf("index %d drawn %.4f of the time, want %.4f", j, got, want)
		}
	}
}

func TestPickEdges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		u     float64
		w     []float64
		total float64
		want  int
	}{
		{"all zero", 0.5, []float64{0, 0}, 0, -1},
		{"empty", 0.5, nil, 0, -1},
		{"rounding past the end skips trailing zeros", 0.999999, []float64{0.1, 0.2, 0}, 0.3000001, 1},
		{"first", 0, []float64{0, 2, 1}, 3, 1},
	} {
		if got := Pick(tc.u, tc.w, tc.total); got != tc.want {
			t.Errorf("%s: Pick = %d, want %d", tc.name, got, tc.want)
		}
	}
}
