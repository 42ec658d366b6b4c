package twotower

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

// attrsOf returns trained item i's attributes as a catalog update would carry them.
func attrsOf(w *world, i int) dataset.AttrValues { return w.attrs.Of(int32(i)) }

// The cold-start embedding of named attributes is the item tower on the training features of the
// same item with the unknown ID row: dictionaries and standardisation are training's.
func TestColdEmbeddingsMatchTower(t *testing.T) {
	w := newWorld(21, 60, 80, 4, 10, 20)
	m := trainSmall(t, w, func(p *Params) { p.IDDropout = 0.3 }, 1)
	if _, err := m.ColdEmbeddings([]dataset.AttrValues{{}}); !errors.Is(err, ErrNoAttributes) {
		t.Fatalf("before UseAttributes: %v", err)
	}
	if err := m.UseAttributes(w.attrs); err != nil {
		t.Fatal(err)
	}
	items := []int32{0, 3, 11, 79} // 3: two genres; 0, 11: year unknown
	var attrs []dataset.AttrValues
	for _, i := range items {
		attrs = append(attrs, attrsOf(w, int(i)))
	}
	got, err := m.ColdEmbeddings(attrs)
	if err != nil {
		t.Fatal(err)
	}
	feats, _ := newItemFeatures(w.attrs, w.numItems)
	want := make([]float32, len(items)*m.Dim())
	var ws ws
	m.net.itemForward(&ws, feats, items, []int32{-1, -1, -1, -1}, want)
	for i := range want {
		if abs(got[i]-want[i]) > 1e-6 {
			t.Fatalf("value %d: %v, want %v", i, got[i], want[i])
		}
	}
	// Unknown values and columns carry nothing; they are not errors.
	if _, err := m.ColdEmbeddings([]dataset.AttrValues{{Categorical: map[string][]string{"genre": {"zz"}, "other": {"x"}}}}); err != nil {
		t.Fatal(err)
	}
}

func TestUseAttributesRefusesOtherShape(t *testing.T) {
	w := newWorld(22, 40, 40, 4, 5, 10)
	m := trainSmall(t, w, nil, 1)
	other := &dataset.Attributes{Numeric: w.attrs.Numeric}
	if err := m.UseAttributes(other); err == nil {
		t.Fatal("attributes without the categorical column accepted")
	}
}

// Live items are retrieved exactly as scored (the index is exact at this size), leave the
// history and skip out, are found by Similar, and an update replaces the old embedding.
func TestLiveItems(t *testing.T) {
	w := newWorld(23, 60, 80, 4, 10, 20)
	for _, beta := range []float64{0, 0.5} {
		m := trainSmall(t, w, func(p *Params) { p.PriorBeta = beta; p.IDDropout = 0.3 }, 1)
		if err := m.UseAttributes(w.attrs); err != nil {
			t.Fatal(err)
		}
		if err := m.SetLiveItems([]LiveItem{{ID: 5, Attrs: attrsOf(w, 5)}}); err == nil {
			t.Fatal("a trained item was accepted as live")
		}
		// IDs leave a gap (85…89 unused), as a catalog that grows past the data set does.
		live := []LiveItem{{ID: 90, Attrs: attrsOf(w, 3)}, {ID: 91, Attrs: attrsOf(w, 40)}, {ID: 84, Attrs: attrsOf(w, 70)}}
		if err := m.SetLiveItems(live); err != nil {
			t.Fatal(err)
		}
		if err := m.SetLiveItems([]LiveItem{{ID: 91, Attrs: attrsOf(w, 60)}}); err != nil { // an update
			t.Fatal(err)
		}
		if m.LiveItems() != 3 {
			t.Fatalf("LiveItems = %d, want 3", m.LiveItems())
		}
		all := make([]int32, 92)
		for i := range all {
			all[i] = int32(i)
		}
		q := candidates.Query{User: 1, History: []int32{3, 4, 90}, Time: 2_000_000}
		scores := make([]float32, len(all))
		if err := m.Score(context.Background(), q, all, scores); err != nil {
			t.Fatal(err)
		}
		for _, it := range []int32{85, 89} {
			if scores[it] == scores[it] {
				t.Fatalf("item %d was never added but scores %v", it, scores[it])
			}
		}
		skip := func(id int32) bool { return id == 84 || id%9 == 2 }
		for i := range scores {
			if scores[i] != scores[i] || slices.Contains(q.History, int32(i)) || skip(int32(i)) {
				scores[i] = -1e9
			}
		}
		want := candidates.TopK(scores, 92, nil, nil)
		got, err := m.Recommend(context.Background(), q, 92, skip, nil)
		if err != nil {
			t.Fatal(err)
		}
		want = slices.DeleteFunc(want, func(c candidates.Candidate) bool { return c.Score == -1e9 })
		if !slices.EqualFunc(got, want, func(a, b candidates.Candidate) bool { return a.Item == b.Item && abs(a.Score-b.Score) < 1e-4 }) {
			t.Fatalf("β=%v: Recommend %v\nwant %v", beta, got, want)
		}
		if !slices.ContainsFunc(got, func(c candidates.Candidate) bool { return c.Item == 91 }) {
			t.Fatalf("the updated live item 91 is not retrieved: %v", got)
		}
		sim, err := m.Similar(context.Background(), 91, 5, nil, nil)
		if err != nil || len(sim) != 5 || slices.ContainsFunc(sim, func(c candidates.Candidate) bool { return c.Item == 91 }) {
			t.Fatalf("Similar of a live item: %v, %v", sim, err)
		}
	}
}

// SetLiveItems runs while requests search (run with -race).
func TestLiveItemsConcurrent(t *testing.T) {
	w := newWorld(24, 60, 80, 4, 10, 20)
	m := trainSmall(t, w, nil, 1)
	if err := m.UseAttributes(w.attrs); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := candidates.Query{User: int32(g), History: []int32{1, 2, 100}, Time: 2_000_000}
			var dst []candidates.Candidate
			for {
				select {
				case <-done:
					return
				default:
				}
				var err error
				if dst, err = m.Recommend(context.Background(), q, 20, nil, dst); err != nil {
					t.Error(err)
					return
				}
				for _, c := range dst {
					if c.Item < 0 || c.Item == 100 {
						t.Errorf("returned %d", c.Item)
						return
					}
				}
			}
		}()
	}
	for i := range 60 {
		if err := m.SetLiveItems([]LiveItem{{ID: int32(80 + i%30), Attrs: attrsOf(w, i)}}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if m.LiveItems() != 30 {
		t.Fatalf("LiveItems = %d, want 30", m.LiveItems())
	}
}
