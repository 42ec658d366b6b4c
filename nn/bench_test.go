package nn

import (
	"fmt"
	"testing"
)

// BenchmarkGemm reports GFLOP/s for the shapes of a Linear layer's forward (NN) and backward
// (TN: dW, NT: dx) passes at 1024×64×64 and the attention shapes.
func BenchmarkGemm(b *testing.B) {
	rng := newRNG(1)
	for _, sz := range [][3]int{{1024, 64, 64}, {12800, 192, 64}, {50, 50, 32}, {50, 32, 50}, {64, 192, 5000}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
			b.Run(fmt.Sprintf("%dx%dx%d/ta=%v,tb=%v", m, n, k, tr[0], tr[1]), func(b *testing.B) {
				a, bb, c := randVec(rng, m*k, 1), randVec(rng, k*n, 1), make([]float32, m*n)
				lda, ldb := leadingDims(tr[0], tr[1], m, n, k)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					Gemm(tr[0], tr[1], m, n, k, 1, a, lda, bb, ldb, 0, c, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkLayerNorm runs the forward and backward passes over the two-tower's rows (a batch
// shard of histories, 64 wide).
func BenchmarkLayerNorm(b *testing.B) {
	rng := newRNG(1)
	const rows, d = 5000, 64
	l := NewLayerNorm("ln", d)
	x, dy := randVec(rng, rows*d, 1), randVec(rng, rows*d, 1)
	y, dx, st := make([]float32, rows*d), make([]float32, rows*d), make([]float32, 2*rows)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			l.Forward(x, rows, y, st)
		}
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			l.Backward(x, dy, rows, st, dx)
		}
	})
}
