package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// bothPaths runs f with the assembly kernels (where the CPU has them: with AVX-512, then with
// AVX2 alone) and with the portable loops.
func bothPaths(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved, saved512 := HaveAVX2FMA, HaveAVX512
	defer func() { HaveAVX2FMA, HaveAVX512 = saved, saved512 }()
	type path struct{ avx2, avx512 bool }
	paths := []path{{saved, saved512}}
	if saved512 {
		paths = append(paths, path{true, false})
	}
	for _, p := range append(paths, path{false, false}) {
		HaveAVX2FMA, HaveAVX512 = p.avx2, p.avx512
		t.Run(fmt.Sprintf("avx2=%v,avx512=%v", p.avx2, p.avx512), f)
	}
}

func randF32(rng *rand.Rand, n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = float32(rng.NormFloat64())
	}
	return f
}

// near reports whether a float32 sum of n products of N(0,1) values is within rounding of want.
func near(got float32, want float64, n int) bool {
	return math.Abs(float64(got)-want) <= 1e-5*float64(n+1)*(1+math.Abs(want))
}

var rowShapes = []struct{ n, k int }{{1, 1}, {3, 5}, {5, 8}, {7, 16}, {4, 24}, {9, 33}, {13, 64}, {270, 64}, {6, 72}, {5, 128}}

// TestMatVec32 checks MatVec32 and MatTVecAdd32 against the double loops in float64, and
// ScaleRows32 exactly.
func TestMatVec32(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, sh := range rowShapes {
			n, k := sh.n, sh.k
			a, x, tv := randF32(rng, n*k), randF32(rng, k), randF32(rng, n)
			y := randF32(rng, n) // overwritten
			MatVec32(a, n, k, x, y)
			w := randF32(rng, n)
			sc := randF32(rng, n*k)
			ScaleRows32(sc, a, n, k, w)
			for i, v := range sc {
				if v != w[i/k]*a[i] {
					t.Fatalf("%d×%d: scaled[%d] = %g, want %g", n, k, i, v, w[i/k]*a[i])
				}
			}
			y0 := randF32(rng, k)
			z := append([]float32(nil), y0...)
			MatTVecAdd32(a, n, k, tv, z)
			for r := range n { // one row alone, from an odd offset: the same bits
				var one [1]float32
				shifted := append(make([]float32, 1+r%3), a[r*k:r*k+k]...)[1+r%3:]
				if MatVec32(shifted, 1, k, x, one[:]); one[0] != y[r] {
					t.Fatalf("%d×%d: row %d alone = %g, in the product %g", n, k, r, one[0], y[r])
				}
			}
			for r := range n {
				var want float64
				for l := range k {
					want += float64(a[r*k+l]) * float64(x[l])
				}
				if !near(y[r], want, k) {
					t.Fatalf("%d×%d: (a·x)[%d] = %g, want %g", n, k, r, y[r], want)
				}
			}
			for l := range k {
				want := float64(y0[l])
				for r := range n {
					want += float64(a[r*k+l]) * float64(tv[r])
				}
				if !near(z[l], want, n) {
					t.Fatalf("%d×%d: (y + aᵀ·t)[%d] = %g, want %g", n, k, l, z[l], want)
				}
			}
		}
	})
}

// TestAtBLower32 checks the lower triangle against the triple loop and that the diagonal is
// written for every k (the shifted edge blocks).
func TestAtBLower32(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, sh := range append(rowShapes, struct{ n, k int }{0, 20}, struct{ n, k int }{1000, 17}) {
			n, k := sh.n, sh.k
			b := randF32(rng, n*k)
			a := make([]float32, n*k) // rows of b scaled by a weight ≥ 0, as in iALS
			for l := range n {
				w := float32(rng.Float64() * 3)
				for j := range k {
					a[l*k+j] = w * b[l*k+j]
				}
			}
			c := randF32(rng, k*k) // stale values must be overwritten
			AtBLower32(c, a, b, n, k)
			for i := range k {
				for j := 0; j <= i; j++ {
					var want float64
					for l := range n {
						want += float64(a[l*k+i]) * float64(b[l*k+j])
					}
					if !near(c[i*k+j], want, 3*n) {
						t.Fatalf("%d×%d: c[%d,%d] = %g, want %g", n, k, i, j, c[i*k+j], want)
					}
				}
			}
		}
	})
}

// TestCholeskyPaths runs the Cholesky test on the portable path as well.
func TestCholeskyPaths(t *testing.T) {
	bothPaths(t, TestGramCholSolve)
}

// BenchmarkMatVec32 is one conjugate-gradient step's row products at an average iALS row (n =
// 270 gathered factors, k = 64): Y_u·p then Y_uᵀ·t.
func BenchmarkMatVec32(b *testing.B) {
	const n, k = 270, 64
	rng := rand.New(rand.NewPCG(1, 2))
	a, x, y, z := randF32(rng, n*k), randF32(rng, k), make([]float32, n), make([]float32, k)
	for b.Loop() {
		MatVec32(a, n, k, x, y)
		MatTVecAdd32(a, n, k, y, z)
	}
}

// BenchmarkScaleRows32 is the W·Y_u copy of one exact iALS row solve (n = 270, k = 64).
func BenchmarkScaleRows32(b *testing.B) {
	const n, k = 270, 64
	rng := rand.New(rand.NewPCG(1, 2))
	a, w, dst := randF32(rng, n*k), randF32(rng, n), make([]float32, n*k)
	for b.Loop() {
		ScaleRows32(dst, a, n, k, w)
	}
}

// BenchmarkAtBLower32 is the Σ w·y·yᵀ term of one exact iALS row solve (n = 270, k = 64).
func BenchmarkAtBLower32(b *testing.B) {
	const n, k = 270, 64
	rng := rand.New(rand.NewPCG(1, 2))
	a, bb, c := randF32(rng, n*k), randF32(rng, n*k), make([]float32, k*k)
	for b.Loop() {
		AtBLower32(c, a, bb, n, k)
	}
}

// BenchmarkCholesky factors and solves a k = 64 system.
func BenchmarkCholesky(b *testing.B) {
	const k = 64
	rng := rand.New(rand.NewPCG(1, 2))
	f := randF32(rng, 3*k*k)
	g := make([]float64, k*k)
	Gram(f, k, g)
	a, x := make([]float64, k*k), make([]float64, k)
	for b.Loop() {
		copy(a, g)
		for i := range k {
			a[i*k+i] += 1
			x[i] = 1
		}
		if !Cholesky(a, k) {
			b.Fatal("not positive definite")
		}
		CholSolve(a, k, x)
	}
}
