package ann

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestExactMatchesNaive(t *testing.T) {
	const dim = 8
	type tc struct {
		name string
		vecs []float32
		opts ExactOptions
	}
	var cases []tc
	for _, n := range []int{0, 1, 5, 300, 5000} {
		cases = append(cases,
			tc{fmt.Sprintf("gauss/n=%d", n), gaussian(n, dim, uint64(n)), ExactOptions{Workers: 1}},
			tc{fmt.Sprintf("ties/n=%d", n), tiedVectors(n, dim, uint64(n)), ExactOptions{Workers: 1}},
			// ParallelRows: 1 forces the multi-goroutine path on small inputs.
			tc{fmt.Sprintf("ties-parallel/n=%d", n), tiedVectors(n, dim, uint64(n)), ExactOptions{Workers: 3, ParallelRows: 1}},
		)
	}
	queries := append(gaussian(4, dim, 99), tiedVectors(4, dim, 98)...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x, err := NewExact(c.vecs, dim, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			n := len(c.vecs) / dim
			for _, k := range []int{1, 3, 10, 100, n, n + 7} {
				for qi := range 8 {
					q := queries[qi*dim : (qi+1)*dim]
					got, err := x.Search(q, k, nil)
					if err != nil {
						t.Fatal(err)
					}
					if want := naiveTopK(c.vecs, dim, q, k, nil); !slices.Equal(got, want) {
						t.Fatalf("k=%d q=%d: got %v, want %v", k, qi, got, want)
					}
					skip := func(id int32) bool { return id%3 == 1 }
					got, _ = x.SearchFiltered(q, k, skip, got)
					if want := naiveTopK(c.vecs, dim, q, k, skip); !slices.Equal(got, want) {
						t.Fatalf("filtered k=%d q=%d: got %v, want %v", k, qi, got, want)
					}
				}
			}
		})
	}
}

func TestExactBatch(t *testing.T) {
	const dim, n, nq, k = 12, 3000, 9, 25
	vecs := tiedVectors(n, dim, 1)
	qs := gaussian(nq, dim, 2)
	skip := func(qi int, id int32) bool { return int(id)%(qi+2) == 0 }
	for _, c := range []struct {
		opts ExactOptions
		nq   int
	}{
		{ExactOptions{Workers: 1}, nq},
		{ExactOptions{Workers: 4}, nq},
		{ExactOptions{Workers: 4, ParallelRows: 1}, nq},
		{ExactOptions{Workers: 4, ParallelRows: 1}, 2}, // fewer queries than workers
	} {
		opts := c.opts
		x, _ := NewExact(vecs, dim, opts)
		dst := make([][]Result, 3) // reused and grown or shrunk
		dst, err := x.SearchBatch(qs[:c.nq*dim], k, skip, dst)
		if err != nil {
			t.Fatal(err)
		}
		if len(dst) != c.nq {
			t.Fatalf("%d result lists, want %d", len(dst), c.nq)
		}
		for qi := range c.nq {
			want := naiveTopK(vecs, dim, qs[qi*dim:(qi+1)*dim], k, func(id int32) bool { return skip(qi, id) })
			if !slices.Equal(dst[qi], want) {
				t.Fatalf("%+v query %d: got %v, want %v", opts, qi, dst[qi], want)
			}
		}
	}
}

func TestExactErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		vecs []float32
		dim  int
	}{
		{"zero dim", make([]float32, 4), 0},
		{"ragged", make([]float32, 7), 2},
		{"nan", []float32{0, float32(math.NaN())}, 2},
		{"inf", []float32{float32(math.Inf(-1)), 0}, 2},
	} {
		if _, err := NewExact(c.vecs, c.dim, ExactOptions{}); err == nil {
			t.Errorf("%s: NewExact succeeded", c.name)
		}
	}
	x, _ := NewExact(gaussian(10, 4, 1), 4, ExactOptions{})
	for _, q := range [][]float32{nil, make([]float32, 3), make([]float32, 5)} {
		if _, err := x.Search(q, 3, nil); !errors.Is(err, ErrDim) {
			t.Errorf("query of length %d: err = %v, want ErrDim", len(q), err)
		}
	}
	if _, err := x.SearchBatch(make([]float32, 6), 3, nil, nil); !errors.Is(err, ErrDim) {
		t.Errorf("ragged batch: err = %v, want ErrDim", err)
	}
	if res, err := x.Search(make([]float32, 4), 0, nil); err != nil || len(res) != 0 {
		t.Errorf("k=0: %v, %v", res, err)
	}
}

func TestExactEmpty(t *testing.T) {
	x, err := NewExact(nil, 16, ExactOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if x.Len() != 0 || x.Dim() != 16 {
		t.Fatalf("Len, Dim = %d, %d", x.Len(), x.Dim())
	}
	res, err := x.Search(make([]float32, 16), 10, nil)
	if err != nil || len(res) != 0 {
		t.Fatalf("got %v, %v", res, err)
	}
	batch, err := x.SearchBatch(make([]float32, 32), 10, nil, nil)
	if err != nil || len(batch) != 2 || len(batch[0]) != 0 {
		t.Fatalf("batch got %v, %v", batch, err)
	}
}

func TestExactZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	const dim = 32
	vecs := gaussian(4000, dim, 3)
	q := gaussian(1, dim, 4)
	skip := func(id int32) bool { return id%2 == 0 }
	for _, opts := range []ExactOptions{{Workers: 1}, {Workers: 2, ParallelRows: 1}} {
		x, _ := NewExact(vecs, dim, opts)
		dst := make([]Result, 0, 100)
		if a := testing.AllocsPerRun(50, func() { dst, _ = x.Search(q, 100, dst) }); a != 0 {
			t.Errorf("%+v: Search allocates %v times", opts, a)
		}
		if a := testing.AllocsPerRun(50, func() { dst, _ = x.SearchFiltered(q, 100, skip, dst) }); a != 0 {
			t.Errorf("%+v: SearchFiltered allocates %v times", opts, a)
		}
	}
}
