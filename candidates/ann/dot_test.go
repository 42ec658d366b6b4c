package ann

import (
	"fmt"
	"math"
	"testing"
)

// dotGo is the best pure-Go kernel we found (4- and 8-way unrolling are
// within noise of each other); it is the reference in BenchmarkDot.
func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		x, y := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		s4 += x[4] * y[4]
		s5 += x[5] * y[5]
		s6 += x[6] * y[6]
		s7 += x[7] * y[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

func TestDotKernels(t *testing.T) {
	for _, dim := range []int{1, 3, 4, 7, 16, 33, 64, 100, 128} {
		v := gaussian(9, dim, uint64(dim))
		q := alignedVec(dim)
		copy(q, v[8*dim:])
		out := make([]float32, 8)
		scoreBlock(v[:8*dim], dim, q, out)
		for i := range 8 {
			row := v[i*dim : (i+1)*dim]
			var want float64
			for j := range row {
				want += float64(row[j]) * float64(q[j])
			}
			tol := 1e-5 * float64(dim)
			for name, got := range map[string]float32{"dot": dot(row, q), "block": out[i], "go": dotGo(row, q)} {
				if math.Abs(float64(got)-want) > tol {
					t.Errorf("dim %d row %d %s: %v, want %v", dim, i, name, got, want)
				}
			}
			if dot(row, q) != out[i] {
				t.Errorf("dim %d row %d: dot %v and block %v differ", dim, i, dot(row, q), out[i])
			}
		}
	}
}

// BenchmarkDot compares the kernels on 10,000 64-d rows (ns/op is per row).
func BenchmarkDot(b *testing.B) {
	const n, dim = 10000, 64
	v := gaussian(n, dim, 1)
	q := alignedVec(dim)
	copy(q, gaussian(1, dim, 2))
	out := make([]float32, n)
	kernels := []struct {
		name string
		fn   func()
	}{
		{"go-unrolled8", func() {
			for i := range n {
				out[i] = dotGo(v[i*dim:(i+1)*dim], q)
			}
		}},
		{"gonum-sdot", func() {
			for i := range n {
				out[i] = dot(v[i*dim:(i+1)*dim], q)
			}
		}},
		{"gonum-sgemv", func() { scoreBlock(v, dim, q, out) }},
	}
	for _, k := range kernels {
		b.Run(fmt.Sprintf("%s/d=%d", k.name, dim), func(b *testing.B) {
			for b.Loop() {
				k.fn()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}
