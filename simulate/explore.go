package simulate

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// explorer turns candidate scores into a slate.
type explorer struct {
	mode        string
	epsilon     float64
	temperature float64
}

// choose picks k of the candidates (by index into scores) in position order and returns, for
// each, the probability of that choice given the ones above it:
//
//   - none: the k best scores (ties by index), each with probability 1;
//   - epsilon: each slot takes a uniformly random remaining candidate with probability ε and the
//     best remaining one otherwise: (1−ε)·[best] + ε/remaining;
//   - softmax: Plackett–Luce, each slot drawn from the remaining candidates with probability
//     exp(s/T) / Σ_remaining exp(s/T).
func (e explorer) choose(r *rand.Rand, scores []float64, k int) ([]int, []float64, error) {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	k = min(k, len(order))
	picked := make([]int, 0, k)
	prop := make([]float64, 0, k)
	switch e.mode {
	case ExploreNone:
		for _, j := range order[:k] {
			picked = append(picked, j)
			prop = append(prop, 1)
		}
	case ExploreEpsilon:
		left := order // best first
		for range k {
			n := len(left)
			at := 0
			if r.Float64() < e.epsilon {
				at = r.IntN(n)
			}
			p := e.epsilon / float64(n)
			if at == 0 {
				p += 1 - e.epsilon
			}
			picked = append(picked, left[at])
			prop = append(prop, p)
			left = slices.Delete(slices.Clone(left), at, at+1)
		}
	case ExploreSoftmax:
		taken := make([]bool, len(scores))
		w := make([]float64, len(scores))
		for range k {
			// Weights relative to the best remaining score, so that at least one is 1.
			top := math.Inf(-1)
			for j, s := range scores {
				if !taken[j] {
					top = max(top, s)
				}
			}
			var total float64
			for j, s := range scores {
				w[j] = 0
				if !taken[j] {
					w[j] = math.Exp((s - top) / e.temperature)
				}
				total += w[j]
			}
			pick := kernel.Pick(r.Float64(), w, total)
			picked = append(picked, pick)
			prop = append(prop, w[pick]/total)
			taken[pick] = true
		}
	default:
		return nil, nil, fmt.Errorf("simulate: unknown exploration mode %q", e.mode)
	}
	return picked, prop, nil
}
