package simulate

import (
	"math"

	"github.com/cascade-rec/cascade/synth"
)

// ClickModel is the world's position-based click model, the one synth uses for its logged
// impressions (synth/impressions.go): a user examines position p (1-based) with probability
// p^−Decay and, having examined it, clicks an item of true affinity a with probability
// σ(Scale·a + Bias), independently per position:
//
//	P(click at p) = p^−Decay · σ(Scale·a + Bias)
type ClickModel struct {
	Scale, Bias, Decay float64
}

// WorldClickModel takes the click model's parameters from the world's configuration.
func WorldClickModel(c synth.Config) ClickModel {
	return ClickModel{Scale: c.ClickScale, Bias: c.ClickBias, Decay: c.PositionDecay}
}

// Examine is the probability that position p (1-based) is examined.
func (m ClickModel) Examine(p int) float64 { return math.Pow(float64(p), -m.Decay) }

// Attract is the probability of a click on an examined item of affinity a.
func (m ClickModel) Attract(a float64) float64 { return 1 / (1 + math.Exp(-(m.Scale*a + m.Bias))) }

// Click is the probability of a click on an item of affinity a at position p.
func (m ClickModel) Click(p int, a float64) float64 { return m.Examine(p) * m.Attract(a) }

// Reward is a slate's exact expected number of clicks: the sum over positions of Click, for the
// affinities of the slate's items in position order.
func (m ClickModel) Reward(affinities []float64) float64 {
	var s float64
	for k, a := range affinities {
		s += m.Click(k+1, a)
	}
	return s
}
