package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMax32 checks Max32 against a sequential scan on every length up to 70, with the maximum
// at every position, and on infinities.
func TestMax32(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		if m := Max32(nil); !math.IsInf(float64(m), -1) {
			t.Fatalf("Max32(nil) = %g, want -Inf", m)
		}
		for n := 1; n <= 70; n++ {
			for at := 0; at < n; at++ {
				x := randF32(rng, n)
				x[at] = 10 + float32(at)
				if m := Max32(x); m != x[at] {
					t.Fatalf("n %d, max at %d: got %g, want %g", n, at, m, x[at])
				}
			}
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(math.Inf(-1))
			}
			if m := Max32(x); !math.IsInf(float64(m), -1) {
				t.Fatalf("n %d, all -Inf: got %g", n, m)
			}
			x[n-1] = float32(math.Inf(1))
			if m := Max32(x); !math.IsInf(float64(m), 1) {
				t.Fatalf("n %d, +Inf last: got %g", n, m)
			}
		}
	})
}

// TestSoftmaxBack32 checks SoftmaxBack32 bit for bit against the Go loop.
func TestSoftmaxBack32(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for n := 0; n <= 70; n++ {
			p, g := randF32(rng, n), randF32(rng, n+3) // g longer than p: only len(p) change
			s, scale := float32(rng.NormFloat64()), float32(rng.Float64())
			want := append([]float32(nil), g...)
			for j := range p {
				want[j] = p[j] * (want[j] - s) * scale
			}
			SoftmaxBack32(p, g, s, scale)
			for j := range g {
				if math.Float32bits(g[j]) != math.Float32bits(want[j]) {
					t.Fatalf("n %d: g[%d] = %g, want %g", n, j, g[j], want[j])
				}
			}
		}
	})
}

func BenchmarkMax32(b *testing.B) {
	x := randF32(rand.New(rand.NewPCG(1, 1)), 50)
	for b.Loop() {
		Max32(x)
	}
}
