package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// ReLUBack32 and AddRows32 store the bits of their loops (and AddRows32 those of one Axpy32 per
// row) on the assembly and the portable paths, for lengths around the 8- and 32-wide blocks and
// with NaN, ±0 and negative activations.
func TestReLUBackAndAddRows(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(8, 1))
		for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 71, 192} {
			y, dy := randF32(rng, n), randF32(rng, n)
			if n > 3 {
				y[0], y[1], y[2] = float32(math.NaN()), float32(math.Copysign(0, -1)), 0
			}
			dx := make([]float32, n)
			ReLUBack32(y, dy, dx)
			for i := range n {
				want := float32(0)
				if y[i] > 0 {
					want = dy[i]
				}
				if math.Float32bits(dx[i]) != math.Float32bits(want) {
					t.Fatalf("n=%d: dx[%d] = %g for y %g, dy %g; want %g", n, i, dx[i], y[i], dy[i], want)
				}
			}
			for _, rows := range []int{1, 2, 5} {
				lda := n + 3
				a := randF32(rng, rows*lda)
				got, want := randF32(rng, n), make([]float32, n)
				copy(want, got)
				AddRows32(got, a, rows, n, lda)
				for r := range rows {
					for j := range n {
						want[j] += a[r*lda+j]
					}
				}
				for j := range n {
					if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
						t.Fatalf("%d rows × %d: y[%d] = %g, want %g", rows, n, j, got[j], want[j])
					}
				}
			}
		}
	})
}

func BenchmarkAddRows32(b *testing.B) {
	for _, sz := range [][2]int{{5000, 192}, {5000, 64}} {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			a, y := randF32(rng, sz[0]*sz[1]), make([]float32, sz[1])
			for b.Loop() {
				AddRows32(y, a, sz[0], sz[1], sz[1])
			}
		})
	}
}
