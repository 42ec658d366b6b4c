package ann

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// naiveTopK is the reference: score every row with the same kernel, sort
// with the package ordering, keep the first k allowed.
func naiveTopK(vecs []float32, dim int, q []float32, k int, skip func(int32) bool) []Result {
	aq := alignedVec(dim)
	copy(aq, q)
	var all []Result
	for i := 0; i < len(vecs)/dim; i++ {
		if skip != nil && skip(int32(i)) {
			continue
		}
		all = append(all, Result{ID: int32(i), Score: dot(vecs[i*dim:(i+1)*dim], aq)})
	}
	slices.SortFunc(all, cmpBestFirst)
	return all[:min(k, len(all))]
}

// gaussian returns n*dim N(0,1) values.
func gaussian(n, dim int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// tiedVectors returns vectors with entries in {-1, 0, 1}, so that many rows
// share a score with any query of the same kind and tie-breaking is tested.
func tiedVectors(n, dim int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 8))
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = float32(rng.IntN(3) - 1)
	}
	return v
}

func checkSorted(t *testing.T, res []Result) {
	t.Helper()
	for i := 1; i < len(res); i++ {
		if !kernel.Worse(res[i], res[i-1]) {
			t.Fatalf("results not sorted at %d: %v then %v", i, res[i-1], res[i])
		}
	}
}

// TestBestFirst checks the beam-search queue; the bounded result heap is kernel.TopK, tested
// there.
func TestBestFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var b bestFirst
	for i := range 200 {
		b.push(Result{ID: int32(i), Score: float32(rng.IntN(10))})
	}
	prev := b.pop()
	for len(b) > 0 {
		r := b.pop()
		if kernel.Worse(prev, r) {
			t.Fatalf("bestFirst popped %v after %v", r, prev)
		}
		prev = r
	}
}
