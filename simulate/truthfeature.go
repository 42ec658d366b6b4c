package simulate

import (
	"math"

	"github.com/cascade-rec/cascade/synth"
)

// truthColumn returns the diagnostic column of RerankerConfig.TruthFeature: the world's true
// value for a request's dense user, time and history and a dense item; NaN (missing to the
// trees) for a user or item the world does not know.
func truthColumn(tr *synth.Truth, ids *idMap, name string) func(user int32, t int64, history []int32, item int32) float32 {
	est := newTasteEstimator(tr)
	return func(user int32, t int64, history []int32, item int32) float32 {
		if user < 0 || int(user) >= len(ids.denseUser) || item < 0 || int(item) >= len(ids.denseItem) {
			return float32(math.NaN())
		}
		u, i := ids.denseUser[user], ids.denseItem[item]
		if u < 0 || i < 0 {
			return float32(math.NaN())
		}
		var recent []int // the history in world items
		for _, d := range history {
			if w := ids.denseItem[d]; w >= 0 {
				recent = append(recent, w)
			}
		}
		switch name {
		case TruthEstimatedTaste:
			return float32(est.affinity(u, t, recent, i))
		case TruthItemBias:
			return float32(tr.Items[i].Bias)
		case TruthLongTerm:
			return float32(tr.Affinity(u, i, t, nil))
		}
		return float32(tr.Affinity(u, i, t, recent))
	}
}
