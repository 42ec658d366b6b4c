package pipeline

import (
	"slices"

	"github.com/cascade-rec/cascade/candidates"
)

// Explanation gives, per final item, each stage's view of it.
type Explanation struct {
	FeatureNames []string
	Items        []ItemExplanation
}

// ItemExplanation is one final item's trace through the stages.
type ItemExplanation struct {
	Item         int32
	Sources      map[string]int     // source name → 1-based rank in its list
	RankerScores map[string]float32 // ranker name → score
	Features     []float32          // in FeatureNames order
}

// explain traces the final items through the stages: the source ranks, the feature row and the
// ranker scores of each.
func (p *Pipeline) explain(sc *scratch, final []candidates.Candidate) *Explanation {
	w := len(p.wide)
	ex := &Explanation{FeatureNames: p.wide}
	rowOf := map[int32]int{}
	for row, it := range sc.items {
		rowOf[it] = row
	}
	for _, c := range final[:min(len(final), p.cfg.Final.K)] {
		ie := ItemExplanation{Item: c.Item, Sources: map[string]int{}, RankerScores: map[string]float32{}}
		for i, s := range p.sources {
			for r, c2 := range sc.lists[i] {
				if c2.Item == c.Item {
					ie.Sources[s.name] = r + 1
					break
				}
			}
		}
		if row, ok := rowOf[c.Item]; ok {
			ie.Features = slices.Clone(sc.wide[row*w : (row+1)*w])
			for ri, r := range p.rankers {
				ie.RankerScores[r.name] = ie.Features[p.base+ri]
			}
		}
		ex.Items = append(ex.Items, ie)
	}
	return ex
}
