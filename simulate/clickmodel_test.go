package simulate

import (
	"context"
	"math"
	"testing"

	"github.com/cascade-rec/cascade/synth"
)

func TestClickModel(t *testing.T) {
	cm := ClickModel{Scale: 4, Bias: -2.5, Decay: 1}
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"examine 1", cm.Examine(1), 1},
		{"examine 4", cm.Examine(4), 0.25},
		{"attract at the bias's zero", cm.Attract(2.5 / 4), 0.5},
		{"attract 0", cm.Attract(0), 1 / (1 + math.Exp(2.5))},
		{"click", cm.Click(2, 2.5/4), 0.25},
		{"reward", cm.Reward([]float64{2.5 / 4, 2.5 / 4, 2.5 / 4, 2.5 / 4}), 0.5 * (1 + 0.5 + 1.0/3 + 0.25)},
		{"no decay", ClickModel{Scale: 1, Decay: 0}.Reward([]float64{0, 0}), 1},
	}
	for _, tt := range tests {
		if math.Abs(tt.got-tt.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// The click model must be the world's own: the clicks synth logged in its impressions must
// match the expected clicks the model computes from the true affinities, within sampling error.
func TestClickModelMatchesTheWorldsImpressions(t *testing.T) {
	cfg := synth.Small(3)
	w, err := synth.Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cm := WorldClickModel(cfg)
	var want, variance float64
	var got int
	for _, imp := range w.Impressions {
		h := w.History(int(imp.User), imp.Time)
		for _, s := range imp.Shown {
			p := cm.Click(s.Position, w.Affinity(int(imp.User), int(s.Item), imp.Time, h))
			want += p
			variance += p * (1 - p)
		}
		got += len(imp.Clicked)
	}
	if want < 100 {
		t.Fatalf("only %.0f expected clicks: the test world is too small to tell", want)
	}
	if z := (float64(got) - want) / math.Sqrt(variance); math.Abs(z) > 4 {
		t.Errorf("the world logged %d clicks, the click model expects %.1f (z = %.1f)", got, want, z)
	}
	// A model with another position decay must be told apart, or the test proves nothing.
	other := cm
	other.Decay = 0.5
	var alt float64
	for _, imp := range w.Impressions {
		h := w.History(int(imp.User), imp.Time)
		for _, s := range imp.Shown {
			alt += other.Click(s.Position, w.Affinity(int(imp.User), int(s.Item), imp.Time, h))
		}
	}
	if z := (float64(got) - alt) / math.Sqrt(variance); math.Abs(z) <= 4 {
		t.Errorf("a decay of 0.5 also fits the logged clicks (z = %.1f): the test cannot tell models apart", z)
	}
}
