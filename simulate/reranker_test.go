package simulate

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"testing"
)

// The re-ranker learns from impressions whose positions are confounded with quality: the better
// items were mostly shown low, where fewer users look. Scored at position 1, it must still rank
// by the item's attraction, as the click model's oracle does; without the position column a
// model would learn the confounded click rate.
func TestRerankerSeparatesPositionFromQuality(t *testing.T) {
	cm := ClickModel{Scale: 2, Bias: -1, Decay: 2}
	r := rand.New(rand.NewPCG(7, 7))
	rr := &reranker{cfg: RerankerConfig{Trees: 60, Leaves: 7, LearningRate: 0.1, MinDataInLeaf: 20}, seed: 1, log: slog.New(slog.DiscardHandler)}
	const k = 5
	for range 6000 {
		s := Served{FeatureNames: []string{"quality"}}
		for p := 1; p <= k; p++ {
			// Quality rises with the position: the slate shows the worst items first.
			q := float64(p)/k - 0.5 + 0.2*r.NormFloat64()
			s.Slots = append(s.Slots, Slot{Position: p, Features: []float32{float32(q)}})
			s.Clicked = append(s.Clicked, r.Float64() < cm.Click(p, q))
		}
		if err := rr.add(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := rr.train(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rr.model == nil {
		t.Fatal("no model trained")
	}
	grid := [][]float32{{-0.6}, {-0.2}, {0.2}, {0.6}}
	scores, err := rr.score(grid)
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
	for n := range rr.y {
		q := rr.x[n*2]
		switch {
		case q > 0.35:
			hiClicks += rr.y[n]
			hiShown++
		case q > -0.05 && q < 0.05:
			midClicks += rr.y[n]
			midShown++
		}
	}
	if hiClicks/hiShown >= midClicks/midShown {
		t.Errorf("the test data is not confounded: click rate %.3f at the top quality, %.3f in the middle", hiClicks/hiShown, midClicks/midShown)
	}
}

// A slate without feature rows (a fallback answer) adds nothing; one label only trains nothing.
func TestRerankerSkipsWhatItCannotLearn(t *testing.T) {
	rr := &reranker{cfg: DefaultConfig().Reranker, log: slog.New(slog.DiscardHandler)}
	if err := rr.add(Served{Slots: []Slot{{Item: 1, Position: 1}}, Clicked: []bool{true}}); err != nil {
		t.Fatal(err)
	}
	if rr.rows() != 0 {
		t.Fatalf("%d rows from a slate without features", rr.rows())
	}
	s := Served{FeatureNames: []string{"f"}, Slots: []Slot{{Position: 1, Features: []float32{1}}}, Clicked: []bool{false}}
	for range 50 {
		if err := rr.add(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := rr.train(context.Background()); err != nil || rr.model != nil {
		t.Fatalf("trained %v (err %v) on misses only", rr.model, err)
	}
	if err := rr.add(Served{FeatureNames: []string{"f", "g"}, Slots: s.Slots, Clicked: s.Clicked}); err == nil {
		t.Error("a wider feature row was accepted")
	}
}
