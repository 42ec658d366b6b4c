package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAxpy32 checks Axpy32 bit for bit against the Go loop on every length up to 100.
func TestAxpy32(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for n := 0; n <= 100; n++ {
			x, y := randF32(rng, n), randF32(rng, n+2) // only the first n change
			alpha := float32(rng.NormFloat64())
			want := append([]float32(nil), y...)
			for i, v := range x {
				want[i] += alpha * v
			}
			Axpy32(alpha, x, y)
			for i := range y {
				if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n %d: y[%d] = %g, want %g", n, i, y[i], want[i])
				}
			}
		}
	})
}
