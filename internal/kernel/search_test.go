package kernel

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestLowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 40 {
		ints := make([]int64, n)
		floats := make([]float64, n)
		for i := range ints {
			ints[i] = r.Int64N(20) // repeats on purpose
			floats[i] = float64(r.IntN(20)) / 4
		}
		slices.Sort(ints)
		slices.Sort(floats)
		for q := int64(-1); q <= 21; q++ {
			want, _ := slices.BinarySearch(ints, q)
			if got := LowerBound(ints, q); got != want {
				t.Fatalf("LowerBound(%v, %d) = %d, want %d", ints, q, got, want)
			}
			fq := float64(q)/4 - 0.1
			want, _ = slices.BinarySearch(floats, fq)
			if got := LowerBound(floats, fq); got != want {
				t.Fatalf("LowerBound(%v, %g) = %d, want %d", floats, fq, got, want)
			}
		}
	}
}

var lbSink int

// benchData is a sorted slice and queries spread over it (and past its end).
func benchData() (s, q []int64) {
	s = make([]int64, 4096)
	for i := range s {
		s[i] = int64(3 * i)
	}
	q = make([]int64, 1024)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range q {
		q[i] = r.Int64N(3 * int64(len(s)))
	}
	return s, q
}

// The benchmarks call directly (not through a func value, which would hide the inlining being
// measured). The baseline is slices.BinarySearch; the hand-written loops LowerBound replaced in
// features and ranker/gbdt compiled to the same instructions as its inlined int64 and float64
// instantiations (go tool objdump), so they need no benchmark of their own.
func BenchmarkLowerBound(b *testing.B) {
	s, q := benchData()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lbSink += LowerBound(s, q[i&(len(q)-1)])
	}
}

func BenchmarkBinarySearch(b *testing.B) {
	s, q := benchData()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j, _ := slices.BinarySearch(s, q[i&(len(q)-1)])
		lbSink += j
	}
}
