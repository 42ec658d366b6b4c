package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestTranspose32 checks Transpose32 against the double loop on shapes around the 8×8 blocks,
// with padded strides, and that it writes nothing outside the transpose.
func TestTranspose32(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, rows := range []int{0, 1, 7, 8, 9, 16, 17, 50} {
			for _, cols := range []int{0, 1, 5, 8, 15, 16, 32, 33} {
				lds, ldd := cols+rows%3, rows+cols%5+1
				src := randF32(rng, rows*lds+1)
				dst := make([]float32, max(cols*ldd, 1))
				for i := range dst {
					dst[i] = -1
				}
				Transpose32(dst, ldd, src, lds, rows, cols)
				for i, v := range dst {
					c, r := i/ldd, i%ldd
					want := float32(-1)
					if r < rows && c < cols {
						want = src[r*lds+c]
					}
					if v != want {
						t.Fatalf("%d×%d (lds %d, ldd %d): dst[%d] = %g, want %g", rows, cols, lds, ldd, i, v, want)
					}
				}
			}
		}
	})
}

func BenchmarkTranspose32(b *testing.B) {
	src := randF32(rand.New(rand.NewPCG(1, 1)), 50*192)
	dst := make([]float32, 32*50)
	for b.Loop() {
		Transpose32(dst, 50, src, 192, 50, 32)
	}
}
