package synth

import (
	"math"
	"math/rand/v2"
)

// Random streams: every part of the world draws from its own source so that changing one part
// (or the number of workers) leaves the others as they were.
const (
	streamModel uint64 = iota + 1
	streamUser
	streamRequests
	streamRequest
	streamPolicy
)

// newRand returns the source for element idx of a stream.
func newRand(seed int64, stream, idx uint64) *rand.Rand {
	a := splitmix(uint64(seed) ^ splitmix(stream))
	b := splitmix(a ^ splitmix(idx+0x9e3779b97f4a7c15*stream))
	return rand.New(rand.NewPCG(a, b))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// gaussVec returns n draws of N(0, (norm²/n)), a vector of expected squared norm norm².
func gaussVec(r *rand.Rand, n int, norm float64) []float64 {
	v := make([]float64, n)
	sd := norm / math.Sqrt(float64(n))
	for i := range v {
		v[i] = r.NormFloat64() * sd
	}
	return v
}

// dirichlet1 returns n weights drawn from the flat Dirichlet distribution.
func dirichlet1(r *rand.Rand, n int) []float64 {
	w := make([]float64, n)
	var s float64
	for i := range w {
		w[i] = r.ExpFloat64()
		s += w[i]
	}
	for i := range w {
		w[i] /= s
	}
	return w
}

// pickWeighted draws k distinct indices with probability proportional to w (successive draws
// without replacement), returned in ascending order.
func pickWeighted(r *rand.Rand, w []float64, k int) []int {
	k = min(k, len(w))
	left := append([]float64(nil), w...)
	out := make([]int, 0, k)
	for range k {
		var total float64
		for _, x := range left {
			total += x
		}
		u := r.Float64() * total
		j := len(left) - 1
		for i, x := range left {
			if u < x {
				j = i
				break
			}
			u -= x
		}
		// A zero weight can be hit only through rounding at the end: take the last positive one.
		for left[j] == 0 && j > 0 {
			j--
		}
		out = append(out, j)
		left[j] = 0
	}
	sortInts(out)
	return out
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// buildAlias fills prob and alias with Vose's alias table for drawing position j ∝ w[items[j]].
func buildAlias(prob []float64, alias []int32, items []int32, w []float64) {
	n := len(items)
	var total float64
	for _, i := range items {
		total += w[i]
	}
	if total == 0 || math.IsInf(total, 0) || math.IsNaN(total) {
		for j := range prob {
			prob[j], alias[j] = 1, int32(j)
		}
		return
	}
	// prob holds the scaled weights while the table is built; small and large stacks share one
	// array from its two ends.
	stack := make([]int32, n)
	ns, nl := 0, n
	for j, i := range items {
		prob[j] = w[i] * float64(n) / total
		if prob[j] < 1 {
			stack[ns] = int32(j)
			ns++
		} else {
			nl--
			stack[nl] = int32(j)
		}
	}
	for ns > 0 && nl < n {
		ns--
		sm, lg := stack[ns], stack[nl]
		alias[sm] = lg
		prob[lg] -= 1 - prob[sm]
		if prob[lg] < 1 {
			nl++
			stack[ns] = lg
			ns++
		}
	}
	for _, j := range stack[nl:] {
		prob[j], alias[j] = 1, j
	}
	for _, j := range stack[:ns] { // rounding leftovers
		prob[j], alias[j] = 1, j
	}
}
