package imported_test

import (
	"cmp"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/cascade-rec/cascade/candidates"
)

// The oracle recomputes in float64, with gonum's general solver, what an imported model must
// serve: user vectors (imported or folded in) and the top n by inner product.

// oracle holds a fixture's vectors by dense ID.
type oracle struct {
	k        int
	items    [][]float32 // by dense item ID; nil without a vector
	users    [][]float32 // by dense user ID; nil without a vector
	allItems [][]float32 // every item row of the files (the Gramian's rows)
}

// foldALS solves Spark's user equation (see fold.go) with an LU solve.
func (o *oracle) foldALS(history []int32, values []float32, implicit bool, alpha, reg float64) []float64 {
	k := o.k
	a := mat.NewDense(k, k, nil)
	b := mat.NewVecDense(k, nil)
	if implicit {
		for _, y := range o.allItems {
			addOuter64(a, 1, y)
		}
	}
	counts := map[int32]int{}
	last := map[int32]float32{}
	var order []int32
	for j, it := range history {
		if int(it) >= len(o.items) || o.items[it] == nil {
			continue
		}
		if !implicit && (j >= len(values) || math.IsNaN(float64(values[j]))) {
			continue
		}
		if counts[it] == 0 {
			order = append(order, it)
		}
		counts[it]++
		if !implicit {
			last[it] = values[j]
		}
	}
	if len(order) == 0 {
		return nil
	}
	for _, it := range order {
		y := o.items[it]
		w, r := 1.0, float64(last[it])
		if implicit {
			c1 := alpha * float64(counts[it])
			w, r = c1, 1+c1
		}
		addOuter64(a, w, y)
		for d, v := range y {
			b.SetVec(d, b.AtVec(d)+r*float64(v))
		}
	}
	for d := range k {
		a.Set(d, d, a.At(d, d)+reg*float64(len(order)))
	}
	var x mat.VecDense
	if err := x.SolveVec(a, b); err != nil {
		panic(err)
	}
	return x.RawVector().Data
}

func addOuter64(a *mat.Dense, w float64, y []float32) {
	for i, yi := range y {
		for j, yj := range y {
			a.Set(i, j, a.At(i, j)+w*float64(yi)*float64(yj))
		}
	}
}

// foldMean averages the history's item vectors (repeats count).
func (o *oracle) foldMean(history []int32) []float64 {
	out := make([]float64, o.k)
	n := 0
	for _, it := range history {
		if int(it) >= len(o.items) || o.items[it] == nil {
			continue
		}
		for d, v := range o.items[it] {
			out[d] += float64(v)
		}
		n++
	}
	if n == 0 {
		return nil
	}
	for d := range out {
		out[d] /= float64(n)
	}
	return out
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// score is the inner product of user and item it, and whether it has a vector.
func (o *oracle) score(user []float64, it int32) (float64, bool) {
	if it < 0 || int(it) >= len(o.items) || o.items[it] == nil {
		return 0, false
	}
	var s float64
	for d, v := range o.items[it] {
		s += user[d] * float64(v)
	}
	return s, true
}

type scored struct {
	item  int32
	score float64
}

// top is the n best items by inner product with user, skipping those skip names.
func (o *oracle) top(user []float64, n int, skip func(int32) bool) []scored {
	var all []scored
	for it := range o.items {
		s, ok := o.score(user, int32(it))
		if ok && (skip == nil || !skip(int32(it))) {
			all = append(all, scored{int32(it), s})
		}
	}
	slices.SortFunc(all, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.item, b.item)
	})
	return all[:min(n, len(all))]
}

// checkList compares a served list with the oracle's: the same length, and at every rank an item
// whose oracle score equals the oracle's score at that rank (so that float32 rounding may swap
// items only where their scores tie), with the served score equal to the oracle's.
func (o *oracle) checkList(t testing.TB, what string, user []float64, got []candidates.Candidate, want []scored, skip func(int32) bool) bool {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d items, oracle %d", what, len(got), len(want))
		return false
	}
	for i, c := range got {
		s, ok := o.score(user, c.Item)
		tol := 1e-4 * (1 + math.Abs(want[i].score))
		switch {
		case !ok:
			t.Errorf("%s: rank %d is item %d, which has no vector", what, i+1, c.Item)
		case skip != nil && skip(c.Item):
			t.Errorf("%s: rank %d is item %d, which the request excludes", what, i+1, c.Item)
		case math.Abs(s-want[i].score) > tol:
			t.Errorf("%s: rank %d is item %d (score %.6f), oracle has item %d (score %.6f)", what, i+1, c.Item, s, want[i].item, want[i].score)
		case math.Abs(float64(c.Score)-s) > tol:
			t.Errorf("%s: rank %d item %d served score %.6f, oracle %.6f", what, i+1, c.Item, c.Score, s)
		default:
			continue
		}
		return false
	}
	return true
}

func closeVec(t testing.TB, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, oracle %d", what, len(got), len(want))
	}
	for d := range got {
		if math.Abs(float64(got[d])-want[d]) > 1e-4*(1+math.Abs(want[d])) {
			t.Fatalf("%s: component %d is %v, oracle %v\n got  %v\n want %v", what, d, got[d], want[d], got, want)
		}
	}
}
