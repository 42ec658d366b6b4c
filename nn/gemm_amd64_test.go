//go:build !purego

package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// TestGemmWideMatchesNarrow checks that Gemm stores the same bits with and without the AVX-512
// kernel, so that a model trained on one machine is the model trained on another: C stored
// (beta = 0, with overlapping edges when k fits one panel) and C added to (beta = 1, padded
// edges), across column counts on both sides of the 16- and 32-wide strips.
func TestGemmWideMatchesNarrow(t *testing.T) {
	if !kernel.HaveAVX512 {
		t.Skip("no AVX-512 on this machine: Gemm never takes the wide path")
	}
	defer func(saved bool) { haveWide = saved }(haveWide)
	rng := newRNG(11)
	for _, m := range []int{5, 6, 13, 50, 197} {
		for _, n := range []int{17, 31, 32, 33, 50, 80, 192} {
			for _, k := range []int{7, 64, 300} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
					for _, beta := range []float32{0, 1} {
						name := fmt.Sprintf("%d×%d×%d ta=%v tb=%v beta=%g", m, n, k, tr[0], tr[1], beta)
						ta, tb := tr[0], tr[1]
						a, b := randVec(rng, m*k, 1), randVec(rng, k*n, 1)
						lda, ldb := leadingDims(ta, tb, m, n, k)
						ldc := n + 3
						c0 := randVec(rng, m*ldc, 1)
						var out [2][]float32
						for i, wide := range []bool{false, true} {
							haveWide = wide
							out[i] = append([]float32(nil), c0...)
							Gemm(ta, tb, m, n, k, 1.5, a, lda, b, ldb, beta, out[i], ldc)
						}
						for i := range c0 {
							if math.Float32bits(out[0][i]) != math.Float32bits(out[1][i]) {
								t.Fatalf("%s: c[%d] = %g with AVX-512, %g without", name, i, out[1][i], out[0][i])
							}
						}
					}
				}
			}
		}
	}
}
