package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/ranker/gbdt"
)

// tableStages propose item 0 and give every item the features of its table row.
type tableStages struct {
	names []string
	rows  map[int32][]float32
}

func (s *tableStages) FeatureNames() []string { return s.names }

func (s *tableStages) Candidates(_ context.Context, _ candidates.Query, extra func([]int32) []int32) ([]int32, []float32, error) {
	items := []int32{0}
	if extra != nil {
		items = append(items, extra(items)...)
	}
	var dense []float32
	for _, it := range items {
		row, ok := s.rows[it]
		if !ok {
			row = make([]float32, len(s.names))
		}
		dense = append(dense, row...)
	}
	return items, dense, nil
}

func testReranker(st ranker.Stages, numItems int) *reranker {
	return &reranker{cfg: RerankerConfig{Trees: 60, Leaves: 7, LearningRate: 0.1, MinDataInLeaf: 20, PositionFeature: true}, seed: 1,
		log: slog.New(slog.DiscardHandler), stages: st, numItems: numItems, workers: 2}
}

// known is a history holding a catalog item, so that a slate is kept.
var known = candidates.Query{User: 0, History: []int32{0}, HistoryTimes: []int64{0}, HistoryValues: []float32{1}, Time: 10}

// The re-ranker learns from impressions whose positions are confounded with quality: the better
// items were mostly shown low, where fewer users look. Scored at the serving position, it must
// still rank by the item's attraction, as the click model's oracle does; without the position
// column a model would learn the confounded click rate.
func TestRerankerSeparatesPositionFromQuality(t *testing.T) {
	cm := ClickModel{Scale: 2, Bias: -1, Decay: 2}
	r := rand.New(rand.NewPCG(7, 7))
	st := &tableStages{names: []string{"quality"}, rows: map[int32][]float32{}}
	const k, slates = 5, 6000
	var imps []ranker.Impression
	next := int32(1)
	for range slates {
		imp := ranker.Impression{Query: known}
		for p := 1; p <= k; p++ {
			// Quality rises with the position: the slate shows the worst items first.
			q := float64(p)/k - 0.5 + 0.2*r.NormFloat64()
			st.rows[next] = []float32{float32(q)}
			imp.Shown = append(imp.Shown, ranker.Shown{Item: next, Position: p, Propensity: 1, Clicked: r.Float64() < cm.Click(p, q)})
			next++
		}
		imps = append(imps, imp)
	}
	rr := testReranker(st, int(next))
	if err := rr.add(context.Background(), 0, imps); err != nil {
		t.Fatal(err)
	}
	if rr.rows() != slates*k {
		t.Fatalf("%d rows, want %d", rr.rows(), slates*k)
	}
	if err := rr.train(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rr.model == nil {
		t.Fatal("no model trained")
	}
	grid := [][]float32{{-0.6}, {-0.2}, {0.2}, {0.6}}
	scores, err := rr.score(&known, nil, grid)
	if err != nil {
		t.Fatal(err)
	}
	for j := 1; j < len(scores); j++ {
		if scores[j] <= scores[j-1] {
			t.Errorf("quality %v scores %v, not above quality %v's %v", grid[j][0], scores[j], grid[j-1][0], scores[j-1])
		}
	}
	// The naive click rate by quality, position ignored, falls at the top: the confounding the
	// position column removes is really there.
	var hiClicks, hiShown, midClicks, midShown float64
	for _, q := range rr.set.Requests {
		for i, y := range q.Labels {
			switch v := q.Row(i, 2)[0]; {
			case v > 0.35:
				hiClicks += float64(y)
				hiShown++
			case v > -0.05 && v < 0.05:
				midClicks += float64(y)
				midShown++
			}
		}
	}
	if hiClicks/hiShown >= midClicks/midShown {
		t.Errorf("the test data is not confounded: click rate %.3f at the top quality, %.3f in the middle", hiClicks/hiShown, midClicks/midShown)
	}
}

// A slate whose history knows no catalog item (a fallback answer) adds nothing; one label only
// trains nothing; feature rows that change width are refused.
func TestRerankerSkipsWhatItCannotLearn(t *testing.T) {
	st := &tableStages{names: []string{"f"}, rows: map[int32][]float32{1: {1}}}
	rr := testReranker(st, 2)
	miss := ranker.Impression{Query: known, Shown: []ranker.Shown{{Item: 1, Position: 1}}}
	fallback := ranker.Impression{Query: candidates.Query{User: 0, History: []int32{}, Time: 10}, Shown: []ranker.Shown{{Item: 1, Position: 1, Clicked: true}}}
	if err := rr.add(context.Background(), 0, []ranker.Impression{fallback}); err != nil {
		t.Fatal(err)
	}
	if rr.rows() != 0 {
		t.Fatalf("%d rows from a fallback slate", rr.rows())
	}
	var misses []ranker.Impression
	for range 50 {
		misses = append(misses, miss)
	}
	if err := rr.add(context.Background(), 1, misses); err != nil {
		t.Fatal(err)
	}
	if err := rr.train(context.Background()); err != nil || rr.model != nil {
		t.Fatalf("trained %v (err %v) on misses only", rr.model, err)
	}
	rr.stages = &tableStages{names: []string{"f", "g"}}
	if err := rr.add(context.Background(), 2, misses); err == nil {
		t.Error("a wider feature row was accepted")
	}
}

// The held-out choice of the re-ranker's size follows the data: clicks that follow one feature
// through a sigmoid, among noise features, want small trees (stumps already add up to the
// sigmoid, larger trees fit the noise); clicks that follow the sign agreement of two features
// (an interaction no sum of stumps can express) want trees of four leaves or more. The refit
// model has the chosen number of trees.
func TestRerankerChoosesItsSize(t *testing.T) {
	tests := []struct {
		name             string
		slates           int
		minLeaves        int
		maxLeaves        int
		features         int
		clickProbability func(f []float32) float64
	}{
		{"one feature through a sigmoid, five of noise", 1500, 2, 4, 6, func(f []float32) float64 {
			return 1 / (1 + math.Exp(-(2*float64(f[0]) - 1)))
		}},
		{"the sign agreement of two features", 4000, 4, 31, 2, func(f []float32) float64 {
			if (f[0] > 0) == (f[1] > 0) {
				return 0.6
			}
			return 0.1
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, 3))
			names := make([]string, tt.features)
			for j := range names {
				names[j] = fmt.Sprintf("f%d", j)
			}
			st := &tableStages{names: names, rows: map[int32][]float32{}}
			const k = 5
			var imps []ranker.Impression
			next := int32(1)
			for range tt.slates {
				imp := ranker.Impression{Query: known}
				for p := 1; p <= k; p++ {
					row := make([]float32, tt.features)
					for j := range row {
						row[j] = float32(r.Float64()*2 - 1)
					}
					st.rows[next] = row
					imp.Shown = append(imp.Shown, ranker.Shown{Item: next, Position: p, Propensity: 1, Clicked: r.Float64() < tt.clickProbability(row)})
					next++
				}
				imps = append(imps, imp)
			}
			rr := testReranker(st, int(next))
			rr.cfg.Trees, rr.cfg.SelectLeaves = 300, []int{2, 4, 8, 15, 31}
			if err := rr.add(context.Background(), 0, imps); err != nil {
				t.Fatal(err)
			}
			p := gbdt.DefaultParams(gbdt.ObjectiveBinary)
			p.NumTrees, p.LearningRate, p.MinDataInLeaf, p.Seed = rr.cfg.Trees, rr.cfg.LearningRate, rr.cfg.MinDataInLeaf, rr.seed
			leaves, trees, ok, err := rr.selectSize(context.Background(), p)
			if err != nil || !ok {
				t.Fatalf("no size chosen (ok %v, err %v)", ok, err)
			}
			t.Logf("chose %d leaves, %d trees", leaves, trees)
			if leaves < tt.minLeaves || leaves > tt.maxLeaves {
				t.Errorf("chose %d leaves (%d trees), want %d to %d", leaves, trees, tt.minLeaves, tt.maxLeaves)
			}
			if trees < 1 || trees > rr.cfg.Trees {
				t.Errorf("chose %d trees, want 1 to %d", trees, rr.cfg.Trees)
			}
			if err := rr.train(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(rr.model.Trees) != trees {
				t.Errorf("the refit model has %d trees, the choice %d", len(rr.model.Trees), trees)
			}
		})
	}
}
