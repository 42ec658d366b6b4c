package kernel

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortTopK is the oracle: sort everything best first and keep the first k that skip allows.
func sortTopK[S float32 | float64](scores []S, base int32, k int, skip func(int32) bool) []Scored[S] {
	var all []Scored[S]
	for j, v := range scores {
		if id := base + int32(j); skip == nil || !skip(id) {
			all = append(all, Scored[S]{ID: id, Score: v})
		}
	}
	slices.SortFunc(all, func(a, b Scored[S]) int { return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID)) })
	return all[:min(k, len(all))]
}

func TestTopKMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	skipOdd := func(id int32) bool { return id%2 == 1 }
	for _, tc := range []struct {
		name   string
		n, k   int
		levels int // scores drawn from this many values, so that ties are common; 0 = continuous
		skip   func(int32) bool
	}{
		{"k=1", 500, 1, 20, nil},
		{"ties", 500, 7, 20, nil},
		{"all tied", 100, 10, 1, nil},
		{"k>n", 30, 64, 0, nil},
		{"continuous", 5000, 100, 0, nil},
		{"skip", 1000, 50, 10, skipOdd},
		{"skip all", 100, 5, 10, func(int32) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s32 := make([]float32, tc.n)
			s64 := make([]float64, tc.n)
			for i := range s32 {
				v := rng.NormFloat64()
				if tc.levels > 0 {
					v = float64(rng.IntN(tc.levels))
				}
				s32[i], s64[i] = float32(v), v
			}
			var h32 TopK[float32]
			h32.Scan(s32, 3, tc.k, tc.skip)
			if got, want := h32.Sorted(), sortTopK(s32, 3, tc.k, tc.skip); !slices.Equal(got, want) {
				t.Errorf("float32: got %v, want %v", got, want)
			}
			// Offer one at a time, in two scans, into a caller's buffer: the same list.
			h64 := TopK[float64](make([]Scored[float64], 0, tc.k))
			h64.Scan(s64[:tc.n/2], 3, tc.k, tc.skip)
			h64.Scan(s64[tc.n/2:], 3+int32(tc.n/2), tc.k, tc.skip)
			if got, want := h64.Sorted(), sortTopK(s64, 3, tc.k, tc.skip); !slices.Equal(got, want) {
				t.Errorf("float64: got %v, want %v", got, want)
			}
		})
	}
}

func TestTopKPop(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	scores := make([]float32, 300)
	for i := range scores {
		scores[i] = float32(rng.IntN(15))
	}
	const k = 40
	var h TopK[float32]
	h.Scan(scores, 0, k, nil)
	want := sortTopK(scores, 0, k, nil)
	for i := k - 1; i >= 0; i-- {
		if got := h.Pop(); got != want[i] {
			t.Fatalf("pop %d: %v, want %v", k-1-i, got, want[i])
		}
	}
	if len(h) != 0 {
		t.Fatalf("%d left", len(h))
	}
}

func TestWorse(t *testing.T) {
	a, b := Scored[float32]{ID: 1, Score: 2}, Scored[float32]{ID: 2, Score: 2}
	if !Worse(b, a) || Worse(a, b) || Worse(a, a) {
		t.Error("equal scores: the larger ID ranks below")
	}
	if c := (Scored[float32]{ID: 0, Score: 1}); !Worse(c, a) || Worse(a, c) {
		t.Error("the lower score ranks below")
	}
}

func TestTopKReusesBuffer(t *testing.T) {
	scores := make([]float32, 1000)
	for i := range scores {
		scores[i] = float32(i % 37)
	}
	buf := make([]Scored[float32], 0, 50)
	allocs := testing.AllocsPerRun(10, func() {
		h := TopK[float32](buf[:0])
		h.Scan(scores, 0, 50, nil)
		h.Sorted()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per selection into a large enough buffer", allocs)
	}
}

func BenchmarkTopK(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	scores := make([]float32, 10_000)
	for i := range scores {
		scores[i] = float32(rng.NormFloat64())
	}
	buf := make([]Scored[float32], 0, 200)
	for b.Loop() {
		h := TopK[float32](buf[:0])
		h.Scan(scores, 0, 200, nil)
		buf = h.Sorted()
	}
}
