package features

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCountBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		n := r.IntN(40)
		times := make([]int64, n)
		for i := range times {
			times[i] = r.Int64N(30)
		}
		slices.Sort(times)
		q := r.Int64N(34) - 2
		want := 0
		for _, v := range times {
			if v < q {
				want++
			}
		}
		if got := countBefore(times, q); got != want {
			t.Fatalf("countBefore(%v, %d) = %d, want %d", times, q, got, want)
		}
		if got := countBeforeGallop(times, q); got != want {
			t.Fatalf("countBeforeGallop(%v, %d) = %d, want %d", times, q, got, want)
		}
	}
}
