package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestKern6x32MatchesKern6x16 checks the claim nn.Gemm relies on to mix the two kernels: a 6×32
// block from Kern6x32 has the bits of two 6×16 blocks from Kern6x16, whether C is stored or
// added to, for row-major and transposed A and odd k.
func TestKern6x32MatchesKern6x16(t *testing.T) {
	if !HaveAVX512 {
		t.Skip("no AVX-512 on this machine: Kern6x32 never runs")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{1, 2, 3, 17, 64, 256} {
		for _, transA := range []bool{false, true} {
			for _, overwrite := range []bool{false, true} {
				t.Run(fmt.Sprintf("k=%d,transA=%v,overwrite=%v", k, transA, overwrite), func(t *testing.T) {
					const ldb, ldc = 37, 35 // wider than the block, so strides are exercised
					a := make([]float32, 9*k)
					b := make([]float32, k*ldb)
					for i := range a {
						a[i] = rng.Float32()*2 - 1
					}
					for i := range b {
						b[i] = rng.Float32()*2 - 1
					}
					ars, acs := k, 1
					if transA {
						ars, acs = 1, 9
					}
					got, want := make([]float32, 6*ldc), make([]float32, 6*ldc)
					for i := range got {
						got[i] = rng.Float32()
						want[i] = got[i]
					}
					Kern6x32(k, &a[0], ars, acs, &b[0], ldb, &got[0], ldc, 1.5, overwrite)
					Kern6x16(k, &a[0], ars, acs, &b[0], ldb, &want[0], ldc, 1.5, overwrite)
					Kern6x16(k, &a[0], ars, acs, &b[16], ldb, &want[16], ldc, 1.5, overwrite)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("c[%d] = %g, want %g", i, got[i], want[i])
						}
					}
				})
			}
		}
	}
}

// BenchmarkKern reports the micro-kernels' GFLOP/s on a 6×32 block with operands in L1.
func BenchmarkKern(b *testing.B) {
	for _, k := range []int{64, 256} {
		for _, wide := range []bool{false, true} {
			if wide && !HaveAVX512 || !HaveAVX2FMA {
				continue
			}
			b.Run(fmt.Sprintf("k=%d,wide=%v", k, wide), func(b *testing.B) {
				a, bb, c := make([]float32, 6*k), make([]float32, k*32), make([]float32, 6*32)
				for i := range a {
					a[i] = 1
				}
				for i := range bb {
					bb[i] = 1
				}
				for b.Loop() {
					if wide {
						Kern6x32(k, &a[0], k, 1, &bb[0], 32, &c[0], 32, 1, true)
					} else {
						Kern6x16(k, &a[0], k, 1, &bb[0], 32, &c[0], 32, 1, true)
						Kern6x16(k, &a[0], k, 1, &bb[16], 32, &c[16], 32, 1, true)
					}
				}
				b.ReportMetric(2*6*32*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
