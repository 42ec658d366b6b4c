package scoreorder

import (
	"math"
	"slices"
	"testing"
)

func TestDescending(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		in, want []float64
	}{
		{[]float64{1, 3, 2}, []float64{3, 2, 1}},
		{[]float64{2, 2, 5}, []float64{5, 2, 2}},
		// NaN compares equal to all: a stable sort leaves it where the sort meets it.
		{[]float64{nan, 1}, []float64{nan, 1}},
		{[]float64{1, nan}, []float64{1, nan}},
	}
	for _, c := range cases {
		idx := []int{0, 1, 2}[:len(c.in)]
		slices.SortStableFunc(idx, func(a, b int) int { return Descending(c.in[a], c.in[b]) })
		for k, i := range idx {
			if got := c.in[i]; got != c.want[k] && !(math.IsNaN(got) && math.IsNaN(c.want[k])) {
				t.Fatalf("sorted %v: %v, want %v", c.in, idx, c.want)
			}
		}
	}
	if Descending(float32(2), 1) != -1 || Descending(float32(1), 2) != 1 || Descending(float32(1), 1) != 0 {
		t.Fatal("float32")
	}
}
