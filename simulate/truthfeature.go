package simulate

import (
	"math"

	"github.com/cascade-rec/cascade/synth"
)

// truthFunc gives a diagnostic truth column for one request — its dense user, time and
// history — as a function of the dense item, so that the request's part is done once for all
// of its candidates.
type truthFunc func(user int32, t int64, history []int32) func(item int32) float32

// truthColumn returns the diagnostic column of RerankerConfig.TruthFeature: the world's true
// value for a request and a dense item; NaN (missing to the trees) for a user or item the world
// does not know.
func truthColumn(tr *synth.Truth, ids *idMap, name string) truthFunc {
	est := newTasteEstimator(tr)
	nan := float32(math.NaN())
	return func(user int32, t int64, history []int32) func(item int32) float32 {
		u := -1
		if user >= 0 && int(user) < len(ids.denseUser) {
			u = ids.denseUser[user]
		}
		var recent []int // the history in world items
		for _, d := range history {
			if w := ids.denseItem[d]; w >= 0 {
				recent = append(recent, w)
			}
		}
		var estimated func(item int) float64
		if name == TruthEstimatedTaste && u >= 0 {
			estimated = est.affinities(u, t, recent)
		}
		return func(item int32) float32 {
			if u < 0 || item < 0 || int(item) >= len(ids.denseItem) || ids.denseItem[item] < 0 {
				return nan
			}
			i := ids.denseItem[item]
			switch name {
			case TruthEstimatedTaste:
				return float32(estimated(i))
			case TruthItemBias:
				return float32(tr.Items[i].Bias)
			case TruthLongTerm:
				return float32(tr.Affinity(u, i, t, nil))
			}
			return float32(tr.Affinity(u, i, t, recent))
		}
	}
}
