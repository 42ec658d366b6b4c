package twotower

import (
	"context"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
)

// Similar through the index equals an exact scan of the item embeddings (the oracle), with and
// without the prior column in the index, and leaves out the item and the skipped ones.
func TestSimilarMatchesScan(t *testing.T) {
	w := newWorld(13, 60, 80, 4, 10, 20)
	for _, beta := range []float64{0, 0.5} {
		m := trainSmall(t, w, func(p *Params) { p.PriorBeta = beta }, 1)
		d, emb := m.Dim(), m.ItemEmbeddings()
		for _, item := range []int32{0, 17, 79} {
			scores := make([]float32, m.NumItems())
			for i := range scores {
				for j := range d {
					scores[i] += emb[i*d+j] * emb[int(item)*d+j]
				}
			}
			skip := func(id int32) bool { return id%5 == 1 }
			want := candidates.TopK(scores, 10, func(id int32) bool { return id == item || skip(id) }, nil)
			got, err := m.Similar(context.Background(), item, 10, skip, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, want, func(a, b candidates.Candidate) bool {
				return a.Item == b.Item && abs(a.Score-b.Score) < 1e-5
			}) {
				t.Fatalf("β=%v item %d: %v, want %v", beta, item, got, want)
			}
		}
	}
	m := trainSmall(t, w, nil, 1)
	if _, err := m.Similar(context.Background(), 80, 5, nil, nil); err == nil {
		t.Fatal("an item outside the catalog was answered")
	}
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
