package synth

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteMarginals enumerates every ordered slate of len(at) items.
func bruteMarginals(w []float64, depth int) [][]float64 {
	n := len(w)
	out := make([][]float64, depth) // out[k][i]
	for k := range out {
		out[k] = make([]float64, n)
	}
	used := make([]bool, n)
	var rec func(k int, prob, left float64)
	rec = func(k int, prob, left float64) {
		if k == depth {
			return
		}
		for i := range n {
			if used[i] {
				continue
			}
			p := prob * w[i] / left
			out[k][i] += p
			used[i] = true
			rec(k+1, p, left-w[i])
			used[i] = false
		}
	}
	var total float64
	for _, x := range w {
		total += x
	}
	rec(0, 1, total)
	return out
}

func TestGeneratePLMarginals(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		n := 3 + r.IntN(5)
		depth := 1 + r.IntN(min(n, 4))
		w := make([]float64, n)
		for i := range w {
			w[i] = math.Exp(r.NormFloat64() * 3)
		}
		want := bruteMarginals(w, depth)
		for k := range depth {
			for i := range n {
				// place item i at position k: any slate with distinct items works for the formula.
				at := make([]int, 0, depth)
				for j := range n {
					if len(at) == k {
						break
					}
					if j != i {
						at = append(at, j)
					}
				}
				if len(at) < k {
					continue
				}
				at = append(at, i)
				for _, step := range []float64{0.4} {
					got := plMarginalsStep(w, at, step)[k]
					if d := math.Abs(got - want[k][i]); d > 1e-7*math.Max(want[k][i], 1e-3) {
						t.Errorf("trial %d step %g: P(pos %d = item %d) = %.12g, want %.12g (w=%v)", trial, step, k, i, got, want[k][i], w)
					}
				}
			}
		}
	}
}
