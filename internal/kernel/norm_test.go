package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNormRow32 checks NormRow32 bit for bit against the Go loop on every length up to 70.
func TestNormRow32(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for n := 0; n <= 70; n++ {
			x, g, b := randF32(rng, n), randF32(rng, n), randF32(rng, n)
			m, r := float32(rng.NormFloat64()), float32(rng.Float64()+0.5)
			y := randF32(rng, n+2) // only the first n change
			want := append([]float32(nil), y...)
			for j := range x {
				want[j] = (x[j]-m)*r*g[j] + b[j]
			}
			NormRow32(y, x, g, b, m, r)
			for j := range y {
				if math.Float32bits(y[j]) != math.Float32bits(want[j]) {
					t.Fatalf("n %d: y[%d] = %g, want %g", n, j, y[j], want[j])
				}
			}
		}
	})
}
