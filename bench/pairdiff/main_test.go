package main

import (
	"math"
	"testing"
)

func TestClustered(t *testing.T) {
	for _, c := range []struct {
		name      string
		users     []int32
		a, b      []float64
		d, halfCI float64
	}{
		// Each user's summed difference is the mean times their steps: no spread between users.
		{"equal per user", []int32{1, 1, 2, 2}, []float64{1, 0, 1, 1}, []float64{0, 0, 0, 1}, 0.5, 0},
		// D = (1, 0, 0), d = 1/3, residuals (2/3, −1/3, −1/3): se = √(3/2 · 6/9) / 3 = 1/3.
		{"one step per user", []int32{1, 2, 3}, []float64{1, 0, 0}, []float64{0, 0, 0}, 1.0 / 3, 1.959964 / 3},
		// Steps of one user count once: two users, the second's three steps agree with the mean.
		{"clustered", []int32{1, 2, 2, 2}, []float64{1, 0, 0, 0}, []float64{0, 0, 0, 0}, 0.25, 1.959964 * math.Sqrt(2*(0.75*0.75+0.75*0.75)) / 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, lo, hi := clustered(c.users, c.a, c.b)
			if math.Abs(d-c.d) > 1e-12 || math.Abs((hi-lo)/2-c.halfCI) > 1e-12 || math.Abs((hi+lo)/2-d) > 1e-12 {
				t.Errorf("got %v [%v, %v], want %v ± %v", d, lo, hi, c.d, c.halfCI)
			}
		})
	}
	// One user: nothing is known about the spread.
	if _, lo, hi := clustered([]int32{7, 7}, []float64{1, 0}, []float64{0, 0}); !math.IsInf(lo, -1) || !math.IsInf(hi, 1) {
		t.Errorf("one user: interval [%v, %v], want unbounded", lo, hi)
	}
}
