package attention

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestReluDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, A := range []int{1, 3, 8, 16, 24, 32} {
		rows := 37
		z := make([]float32, rows*A)
		for i := range z {
			z[i] = float32(rng.NormFloat64())
		}
		w := make([]float32, A)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		got := make([]float32, rows)
		reluDot(z, w, 0.25, got, A)
		for r := range rows {
			want := 0.25
			for a := range A {
				want += math.Max(float64(z[r*A+a]), 0) * float64(w[a])
			}
			if math.Abs(float64(got[r])-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("A = %d row %d: %v, want %v", A, r, got[r], want)
			}
		}
	}
}

func benchReluDot(b *testing.B, f func(z, w []float32, b float32, out []float32, A int)) {
	const A, rows = 16, blockRows * 50
	z := make([]float32, rows*A)
	for i := range z {
		z[i] = float32(rand.NormFloat64())
	}
	w := make([]float32, A)
	out := make([]float32, rows)
	for b.Loop() {
		f(z, w, 0, out, A)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows*A), "ns/element")
}

func BenchmarkReluDot(b *testing.B)   { benchReluDot(b, reluDot) }
func BenchmarkReluDotGo(b *testing.B) { benchReluDot(b, reluDotGo) }
