package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGramCholSolve checks Gram against the triple loop, and Cholesky + CholSolve against the
// system they solve: A·x must give back b.
func TestGramCholSolve(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ rows, k int }{{1, 1}, {3, 5}, {300, 8}, {600, 33}} {
		f := make([]float32, tc.rows*tc.k)
		for i := range f {
			f[i] = float32(rng.NormFloat64())
		}
		k := tc.k
		g := make([]float64, k*k)
		Gram(f, k, g)
		for i := 0; i < k; i++ {
			for j := 0; j < k; j++ {
				var want float64
				for r := 0; r < tc.rows; r++ {
					want += float64(f[r*k+i]) * float64(f[r*k+j])
				}
				if math.Abs(g[i*k+j]-want) > 1e-9*(1+math.Abs(want)) {
					t.Fatalf("%+v: gram[%d,%d] = %g, want %g", tc, i, j, g[i*k+j], want)
				}
			}
		}
		a := make([]float64, k*k)
		copy(a, g)
		for i := 0; i < k; i++ {
			a[i*k+i] += 0.5 // positive definite even when rows < k
		}
		orig := append([]float64(nil), a...)
		b := make([]float64, k)
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		x := append([]float64(nil), b...)
		if !Cholesky(a, k) {
			t.Fatalf("%+v: not positive definite", tc)
		}
		CholSolve(a, k, x)
		for i := 0; i < k; i++ {
			if got := Dot64(orig[i*k:(i+1)*k], x); math.Abs(got-b[i]) > 1e-8*(1+math.Abs(b[i])) {
				t.Fatalf("%+v: (A·x)[%d] = %g, want %g", tc, i, got, b[i])
			}
		}
	}
}

func TestCholeskyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    []float64
	}{
		{"negative", []float64{-1}},
		{"singular", []float64{1, 1, 1, 1}},
		{"infinite", []float64{math.Inf(1)}},
		{"nan", []float64{math.NaN()}},
	} {
		n := int(math.Sqrt(float64(len(tc.a))))
		if Cholesky(tc.a, n) {
			t.Errorf("%s: factored", tc.name)
		}
	}
}
