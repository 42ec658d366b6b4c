package ann

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/candidates/ann/internal/vecgen"
)

// The shared fixture: 12,000 clustered 32-d unit vectors, built once with
// one worker so that it is deterministic.
const (
	fixN   = 12000
	fixDim = 32
	fixNQ  = 200
)

var fixture = sync.OnceValues(func() (*HNSW, []float32) {
	c := vecgen.NewClusters(20, fixDim, 0.35, 11)
	vecs := c.Sample(fixN, 12)
	h, err := NewHNSW(vecs, fixDim, HNSWOptions{M: 12, EfConstruction: 100, EfSearch: 64, Seed: 5, Workers: 1})
	if err != nil {
		panic(err)
	}
	return h, c.Sample(fixNQ, 13)
})

func fixtureExact(t *testing.T, h *HNSW) *Exact {
	t.Helper()
	x, err := NewExact(h.Vectors(), h.Dim(), ExactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestHNSWRecall(t *testing.T) {
	h, qs := fixture()
	x := fixtureExact(t, h)
	for _, k := range []int{1, 10, 100} {
		r, err := MeasureRecall(h, x, qs, k)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("recall@%d = %.4f (efSearch %d)", k, r, max(k, h.EfSearch()))
		if r < 0.95 {
			t.Errorf("recall@%d = %.4f, want >= 0.95", k, r)
		}
	}
}

func TestHNSWParallelBuild(t *testing.T) {
	c := vecgen.NewClusters(50, 16, 0.35, 21)
	vecs := c.Sample(3000, 22)
	qs := c.Sample(100, 23)
	h, err := NewHNSW(vecs, 16, HNSWOptions{M: 8, EfConstruction: 64, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.validate(); err != nil {
		t.Fatal(err)
	}
	x, _ := NewExact(vecs, 16, ExactOptions{})
	if r, _ := MeasureRecall(h, x, qs, 10); r < 0.95 {
		t.Errorf("recall@10 = %.4f after a parallel build", r)
	}
}

func TestHNSWDeterministic(t *testing.T) {
	vecs := vecgen.NewClusters(20, 8, 0.35, 31).Sample(1500, 32)
	opts := HNSWOptions{M: 6, EfConstruction: 40, Seed: 9, Workers: 1}
	a, _ := NewHNSW(vecs, 8, opts)
	b, _ := NewHNSW(vecs, 8, opts)
	if !slices.Equal(a.links0, b.links0) || !slices.Equal(a.upper, b.upper) || a.entry != b.entry {
		t.Fatal("two single-worker builds with the same seed differ")
	}
	opts.Seed = 10
	c, _ := NewHNSW(vecs, 8, opts)
	if slices.Equal(a.levels, c.levels) {
		t.Error("a different seed gave the same levels")
	}
}

func TestHNSWSearchContract(t *testing.T) {
	h, qs := fixture()
	q := qs[:fixDim]
	for _, c := range []struct {
		k, ef, want int
	}{
		{0, 0, 0},
		{-1, 0, 0},
		{1, 0, 1},
		{50, 0, 50},
		{100, 10, 100}, // ef is raised to k
		{fixN + 5, 0, fixN},
	} {
		got, err := h.SearchEf(q, c.k, c.ef, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want {
			t.Errorf("k=%d ef=%d: %d results, want %d", c.k, c.ef, len(got), c.want)
		}
		checkSorted(t, got)
		seen := map[int32]bool{}
		for _, r := range got {
			if seen[r.ID] {
				t.Fatalf("k=%d: duplicate ID %d", c.k, r.ID)
			}
			seen[r.ID] = true
			if want := dot(h.vec(r.ID), alignedCopy(q)); r.Score != want {
				t.Fatalf("ID %d: score %v, want %v", r.ID, r.Score, want)
			}
		}
	}
	for _, bad := range [][]float32{nil, q[:fixDim-1], make([]float32, fixDim+1)} {
		if _, err := h.Search(bad, 5, nil); !errors.Is(err, ErrDim) {
			t.Errorf("query of length %d: err = %v, want ErrDim", len(bad), err)
		}
	}
	if _, err := h.SearchBatch(qs[:fixDim+1], 5, nil, nil); !errors.Is(err, ErrDim) {
		t.Errorf("ragged batch: want ErrDim")
	}
}

func alignedCopy(q []float32) []float32 {
	a := alignedVec(len(q))
	copy(a, q)
	return a
}

func TestHNSWSmall(t *testing.T) {
	for _, n := range []int{0, 1, 2, 17} {
		vecs := gaussian(n, 4, uint64(n))
		h, err := NewHNSW(vecs, 4, HNSWOptions{M: 4, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		if h.Len() != n || h.Dim() != 4 {
			t.Fatalf("Len, Dim = %d, %d", h.Len(), h.Dim())
		}
		q := gaussian(1, 4, 100)
		got, err := h.Search(q, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Tiny graphs are searched exhaustively.
		if want := naiveTopK(vecs, 4, q, 10, nil); !slices.Equal(got, want) {
			t.Errorf("n=%d: got %v, want %v", n, got, want)
		}
	}
	if _, err := NewHNSW(gaussian(4, 4, 1), 4, HNSWOptions{M: 1}); err == nil {
		t.Error("M=1 accepted")
	}
	if _, err := NewHNSW(make([]float32, 5), 4, HNSWOptions{}); !errors.Is(err, ErrDim) {
		t.Error("ragged vectors accepted")
	}
}

func TestHNSWFiltered(t *testing.T) {
	h, qs := fixture()
	x := fixtureExact(t, h)
	const k = 20
	for _, c := range []struct {
		name string
		skip func(int32) bool
	}{
		{"odd", func(id int32) bool { return id%2 == 1 }},
		{"keep 1 in 50", func(id int32) bool { return id%50 != 7 }},
		{"keep 30", func(id int32) bool { return id >= 30 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var sum float64
			for qi := range 50 {
				q := qs[qi*fixDim : (qi+1)*fixDim]
				got, err := h.SearchFiltered(q, k, c.skip, nil)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != k {
					t.Fatalf("query %d: %d results, want %d", qi, len(got), k)
				}
				checkSorted(t, got)
				for _, r := range got {
					if c.skip(r.ID) {
						t.Fatalf("query %d: filtered ID %d returned", qi, r.ID)
					}
				}
				want, _ := x.SearchFiltered(q, k, c.skip, nil)
				sum += Recall(got, want)
			}
			if r := sum / 50; r < 0.9 {
				t.Errorf("filtered recall@%d = %.3f", k, r)
			}
		})
	}
}

func TestHNSWConcurrentSearch(t *testing.T) {
	h, qs := fixture()
	want, err := h.SearchBatch(qs, 10, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			dst := make([]Result, 0, 10)
			for i := range fixNQ {
				qi := (i + g*7) % fixNQ
				var err error
				if g%2 == 0 {
					dst, err = h.Search(qs[qi*fixDim:(qi+1)*fixDim], 10, dst)
				} else {
					dst, err = h.SearchFiltered(qs[qi*fixDim:(qi+1)*fixDim], 10, func(int32) bool { return false }, dst)
				}
				if err != nil || !slices.Equal(dst, want[qi]) {
					t.Errorf("goroutine %d query %d: got %v, %v; want %v", g, qi, dst, err, want[qi])
					return
				}
			}
		})
	}
	wg.Add(1)
	go func() { // changing the default ef concurrently is allowed
		defer wg.Done()
		for range 100 {
			h.SetEfSearch(h.EfSearch())
		}
	}()
	wg.Wait()
}

func TestHNSWBatch(t *testing.T) {
	h, qs := fixture()
	skip := func(qi int, id int32) bool { return int(id)%(qi+2) == 0 }
	got, err := h.SearchBatchEf(qs, 15, 80, skip, nil)
	if err != nil {
		t.Fatal(err)
	}
	for qi := range fixNQ {
		want, _ := h.SearchEf(qs[qi*fixDim:(qi+1)*fixDim], 15, 80, func(id int32) bool { return skip(qi, id) }, nil)
		if !slices.Equal(got[qi], want) {
			t.Fatalf("query %d: batch %v, single %v", qi, got[qi], want)
		}
	}
}

func TestHNSWZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	h, qs := fixture()
	q := qs[:fixDim]
	dst := make([]Result, 0, 100)
	skip := func(id int32) bool { return id%3 == 0 }
	if a := testing.AllocsPerRun(100, func() { dst, _ = h.Search(q, 100, dst) }); a != 0 {
		t.Errorf("Search allocates %v times", a)
	}
	if a := testing.AllocsPerRun(100, func() { dst, _ = h.SearchEf(q, 10, 200, skip, dst) }); a != 0 {
		t.Errorf("SearchEf with a filter allocates %v times", a)
	}
}

func TestVisitedWraps(t *testing.T) {
	v := visited{marks: make([]uint32, 4)}
	v.reset()
	if !v.visit(2) || v.visit(2) {
		t.Fatal("visit does not mark")
	}
	v.gen = ^uint32(0) - 1
	v.marks[1] = 1 // a stamp from the first generation, which the wrapped counter reaches again
	v.reset()
	v.reset() // wraps to 0, so the set is cleared and restarts at 1
	if v.gen != 1 || !v.visit(1) || !v.visit(2) {
		t.Fatalf("after wrap-around: gen %d, marks %v", v.gen, v.marks)
	}
}
