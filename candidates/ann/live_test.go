package ann

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cascade-rec/cascade/candidates/ann/internal/vecgen"
)

// TestGrowableAdd builds each index on the first half of a catalog, adds the second half one
// vector at a time, and compares it with an exact index built on the whole catalog.
func TestGrowableAdd(t *testing.T) {
	const n, dim, half = 3000, 16, 1500
	c := vecgen.NewClusters(30, dim, 0.35, 41)
	vecs := c.Sample(n, 42)
	qs := c.Sample(100, 43)
	truth, _ := NewExact(vecs, dim, ExactOptions{})
	for _, tc := range []struct {
		name string
		make func([]float32) (Growable, error)
		min  float64
	}{
		{"exact", func(v []float32) (Growable, error) { return NewExact(v, dim, ExactOptions{}) }, 1},
		{"hnsw", func(v []float32) (Growable, error) {
			return NewHNSW(v, dim, HNSWOptions{M: 8, EfConstruction: 64, EfSearch: 64, Workers: 1})
		}, 0.95},
		{"hnsw from empty", func([]float32) (Growable, error) {
			return NewHNSW(nil, dim, HNSWOptions{M: 8, EfConstruction: 64, EfSearch: 64, Workers: 1})
		}, 0.95},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := vecs[:half*dim]
			if tc.name == "hnsw from empty" {
				base = nil
			}
			idx, err := tc.make(base)
			if err != nil {
				t.Fatal(err)
			}
			for i := idx.Len(); i < n; i++ {
				id, err := idx.Add(vecs[i*dim : (i+1)*dim])
				if err != nil || int(id) != i {
					t.Fatalf("Add row %d = %d, %v", i, id, err)
				}
			}
			if idx.Len() != n {
				t.Fatalf("Len = %d after adding, want %d", idx.Len(), n)
			}
			if h, ok := idx.(*HNSW); ok {
				if err := h.validate(); err != nil {
					t.Fatal(err)
				}
			}
			r, err := MeasureRecall(idx, truth, qs, 10)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("recall@10 after adding %d of %d vectors live: %.4f", n-half, n, r)
			if r < tc.min {
				t.Errorf("recall@10 = %.4f, want ≥ %.2f", r, tc.min)
			}
		})
	}
}

func TestGrowableDelete(t *testing.T) {
	const dim = 8
	vecs := vecgen.NewClusters(5, dim, 0.35, 51).Sample(400, 52)
	for _, idx := range growables(t, vecs, dim) {
		q := vecs[7*dim : 8*dim]
		top, _ := idx.Search(q, 5, nil)
		dead := top[0].ID
		if err := idx.Delete(dead); err != nil {
			t.Fatal(err)
		}
		if _, err := idx.Add(vecs[:dim]); err != nil { // an Add after a Delete keeps the tombstone
			t.Fatal(err)
		}
		got, _ := idx.Search(q, 5, nil)
		batch, _ := idx.SearchBatch(q, 5, nil, nil)
		for _, res := range [][]Result{got, batch[0]} {
			if len(res) != 5 {
				t.Fatalf("%T: %d results, want 5", idx, len(res))
			}
			for _, r := range res {
				if r.ID == dead {
					t.Fatalf("%T: deleted %d returned", idx, dead)
				}
			}
		}
		if err := idx.Delete(int32(idx.Len())); err == nil {
			t.Errorf("%T: Delete past the end accepted", idx)
		}
	}
}

func TestGrowableBadVector(t *testing.T) {
	const dim = 4
	vecs := vecgen.NewClusters(2, dim, 0.35, 61).Sample(50, 62)
	nan := float32(0)
	nan /= nan
	for _, idx := range growables(t, vecs, dim) {
		if _, err := idx.Add(make([]float32, dim+1)); !errors.Is(err, ErrDim) {
			t.Errorf("%T: a wrong-size vector: %v", idx, err)
		}
		if _, err := idx.Add([]float32{1, nan, 0, 0}); err == nil {
			t.Errorf("%T: a NaN vector accepted", idx)
		}
		if idx.Len() != 50 {
			t.Errorf("%T: Len = %d after refused adds", idx, idx.Len())
		}
	}
}

// TestGrowableConcurrent adds and deletes while other goroutines search (run with -race).
func TestGrowableConcurrent(t *testing.T) {
	const dim = 16
	c := vecgen.NewClusters(10, dim, 0.35, 71)
	vecs := c.Sample(1200, 72)
	qs := c.Sample(20, 73)
	for _, idx := range growables(t, vecs[:600*dim], dim) {
		var stop atomic.Bool
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var dst []Result
				for i := 0; !stop.Load(); i++ {
					q := qs[(i+g)%20*dim : ((i+g)%20+1)*dim]
					var err error
					if dst, err = idx.SearchFiltered(q, 10, func(id int32) bool { return id%7 == 0 }, dst); err != nil {
						t.Error(err)
						return
					}
					if i%10 == 0 {
						idx.SearchBatch(qs, 5, nil, nil)
					}
				}
			}()
		}
		for i := 600; i < 1200; i++ {
			if _, err := idx.Add(vecs[i*dim : (i+1)*dim]); err != nil {
				t.Fatal(err)
			}
			if i%50 == 0 {
				idx.Delete(int32(i - 1))
			}
		}
		stop.Store(true)
		wg.Wait()
		if idx.Len() != 1200 {
			t.Errorf("%T: Len = %d", idx, idx.Len())
		}
	}
}

// growables returns an exact and an HNSW index over vecs.
func growables(t *testing.T, vecs []float32, dim int) []Growable {
	t.Helper()
	x, err := NewExact(vecs, dim, ExactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHNSW(vecs, dim, HNSWOptions{M: 8, EfConstruction: 40, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	return []Growable{x, h}
}

// BenchmarkHNSWAdd is one live insertion (the write lock a search may wait for) into a 20,000 ×
// 64 index with the default parameters.
func BenchmarkHNSWAdd(b *testing.B) {
	const n, dim = 20000, 64
	c := vecgen.NewClusters(50, dim, 0.35, 81)
	h, err := NewHNSW(c.Sample(n, 82), dim, HNSWOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	add := c.Sample(b.N, 83)
	b.ResetTimer()
	for i := range b.N {
		if _, err := h.Add(add[i*dim : (i+1)*dim]); err != nil {
			b.Fatal(err)
		}
	}
}
