package simulate

import (
	"context"
	"math"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/ranker"
)

// truthColumn reads the world's truth through the data set's IDs: dense user and item 0 are the
// world's user 3 and item 5 here, and the history's unknown items are left out.
func TestTruthColumn(t *testing.T) {
	w := tinyWorld(t)
	ids := &idMap{denseUser: []int{3, -1}, denseItem: []int{5, 7, 9, -1}}
	const at = int64(1_700_000_000)
	hist := []int32{1, 3, 2} // items 7, unknown, 9
	for _, c := range []struct {
		name string
		want float64
	}{
		{TruthAffinity, w.Affinity(3, 5, at, []int{7, 9})},
		{TruthLongTerm, w.Affinity(3, 5, at, nil)},
		{TruthItemBias, w.Items[5].Bias},
	} {
		col := truthColumn(w.Truth, ids, c.name)
		if got := col(0, at, hist)(0); got != float32(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		for _, unknown := range [][2]int32{{1, 0}, {0, 3}, {-1, 0}, {0, 4}} {
			if got := col(unknown[0], at, hist)(unknown[1]); !math.IsNaN(float64(got)) {
				t.Errorf("%s: user %d, item %d: %v, want NaN", c.name, unknown[0], unknown[1], got)
			}
		}
	}
	if w.Affinity(3, 5, at, []int{7, 9}) == w.Affinity(3, 5, at, nil) {
		t.Error("the history does not move the affinity: the test cannot tell the two columns apart")
	}
}

// The re-ranker appends the truth column after the position to the rows it trains on, and
// scores a served row with the truth of that request and item: clicks that follow the truth
// alone give scores in the truth's order.
func TestRerankerTruthColumn(t *testing.T) {
	st := &tableStages{names: []string{"noise"}, rows: map[int32][]float32{}}
	truth := func(item int32) float32 { return float32(item%7) / 7 }
	rr := testReranker(st, 8000)
	rr.cfg.TruthFeature = TruthAffinity
	rr.truth = func(int32, int64, []int32) func(int32) float32 { return truth }
	var imps []ranker.Impression
	next := int32(1)
	for s := range 1200 {
		imp := ranker.Impression{Query: known}
		for p := 1; p <= 5; p++ {
			st.rows[next] = []float32{float32((s*5 + p) % 3)}
			clicked := (int(next)*7919)%100 < int(100*truth(next))
			imp.Shown = append(imp.Shown, ranker.Shown{Item: next, Position: p, Propensity: 1, Clicked: clicked})
			next++
		}
		imps = append(imps, imp)
	}
	if err := rr.add(context.Background(), 0, imps); err != nil {
		t.Fatal(err)
	}
	names := rr.set.FeatureNames
	if len(names) != 3 || names[1] != ranker.PositionFeature || names[2] != "truth_affinity" {
		t.Fatalf("columns %v", names)
	}
	q := rr.set.Requests[0]
	if got, want := q.Row(2, 3)[2], truth(q.Items[2]); got != want {
		t.Fatalf("item %d's truth column %v, want %v", q.Items[2], got, want)
	}
	if err := rr.train(context.Background()); err != nil {
		t.Fatal(err)
	}
	items := []int32{7, 1, 3, 6} // truths 0, 1/7, 3/7, 6/7
	scores, err := rr.score(&candidates.Query{}, items, [][]float32{{0}, {0}, {0}, {0}})
	if err != nil {
		t.Fatal(err)
	}
	for j := 1; j < len(scores); j++ {
		if scores[j] <= scores[j-1] {
			t.Errorf("item %d (truth %v) scores %v, not above item %d's %v", items[j], truth(items[j]), scores[j], items[j-1], scores[j-1])
		}
	}
}
