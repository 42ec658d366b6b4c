package simulate

import (
	"cmp"
	"slices"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// slateMetrics is what one served slate scored against the truth.
type slateMetrics struct {
	reward       float64 // exact expected clicks
	clicks       int     // realised clicks
	slots, junk  int     // shown items, and those with affinity below the user's catalog median
	cands, cJunk int     // the cascade's candidates, and the junk among them
	// ceiling is the expected reward of the best slate the candidates allow: their k items of
	// highest true affinity, best first (0 for the baselines, which have no candidate list).
	ceiling float64
	// topHits is how many of the user's k unseen items of highest true affinity the candidates
	// hold (of top, which is k, or fewer when fewer are unseen).
	topHits, top int
}

// measure scores a served slate: aff is the user's true affinity for every item when served,
// med its median over the catalog.
func measure(cm ClickModel, aff []float64, med float64, s Served) slateMetrics {
	var m slateMetrics
	slate := make([]float64, len(s.Slots))
	for k, slot := range s.Slots {
		slate[k] = aff[slot.Item]
		if aff[slot.Item] < med {
			m.junk++
		}
		if s.Clicked[k] {
			m.clicks++
		}
	}
	m.slots = len(s.Slots)
	m.reward = cm.Reward(slate)
	var best []float64
	for _, i := range s.Candidates {
		m.cands++
		if i >= 0 {
			best = append(best, aff[i])
			if aff[i] < med {
				m.cJunk++
			}
		}
	}
	slices.SortFunc(best, func(a, b float64) int { return cmp.Compare(b, a) })
	m.ceiling = cm.Reward(best[:min(len(best), len(s.Slots))])
	if len(s.Candidates) > 0 && s.Request != nil {
		m.topHits, m.top = topRecall(aff, s)
	}
	return m
}

// topRecall counts the user's k = Request.K unseen items of highest true affinity (ties by
// index) and how many of them s's candidates hold.
func topRecall(aff []float64, s Served) (hits, k int) {
	top := kernel.TopK[float64](nil)
	for i, a := range aff {
		if !s.Request.Seen(i) {
			top.Offer(kernel.Scored[float64]{ID: int32(i), Score: a}, s.Request.K)
		}
	}
	for _, sc := range top {
		if slices.Contains(s.Candidates, int(sc.ID)) {
			hits++
		}
	}
	return hits, len(top)
}

// roundTotals accumulates one policy's slates in a round.
type roundTotals struct {
	slates       int
	reward       float64
	clicks       int
	slots, junk  int
	cands, cJunk int
	ceiling      float64
	topHits, top int
	shown        map[int]bool
}

func (t *roundTotals) add(m slateMetrics, s Served) {
	if t.shown == nil {
		t.shown = map[int]bool{}
	}
	t.slates++
	t.reward += m.reward
	t.clicks += m.clicks
	t.slots += m.slots
	t.junk += m.junk
	t.cands += m.cands
	t.cJunk += m.cJunk
	t.ceiling += m.ceiling
	t.topHits += m.topHits
	t.top += m.top
	for _, slot := range s.Slots {
		t.shown[slot.Item] = true
	}
}

// meanReward is the mean exact expected reward per slate.
func (t *roundTotals) meanReward() float64 { return ratio(t.reward, float64(t.slates)) }

// junkShare is the share of slate slots taken by junk.
func (t *roundTotals) junkShare() float64 { return ratio(float64(t.junk), float64(t.slots)) }

// coverage is the share of the catalog shown to anyone in the round.
func (t *roundTotals) coverage(items int) float64 {
	return ratio(float64(len(t.shown)), float64(items))
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
