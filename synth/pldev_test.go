package synth

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestDevPLStep(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, step := range []float64{0.3, 0.4, 0.5, 0.6, 0.8, 1.0} {
		var maxRel float64
		for range 50 {
			n := 3 + r.IntN(5)
			depth := min(n, 1+r.IntN(4))
			w := make([]float64, n)
			for i := range w {
				w[i] = math.Exp(r.NormFloat64() * 3)
			}
			want := bruteMarginals(w, depth)
			at := r.Perm(n)[:depth]
			got := plMarginalsStep(w, at, step)
			for k, i := range at {
				maxRel = max(maxRel, math.Abs(got[k]-want[k][i])/want[k][i])
			}
		}
		t.Logf("step %.1f max rel err %.3g", step, maxRel)
	}
}
