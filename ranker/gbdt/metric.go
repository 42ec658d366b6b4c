package gbdt

import (
	"fmt"
	"math"
	"slices"

	"github.com/cascade-rec/cascade/ranker/internal/scoreorder"
)

// maxDCGAtK is the DCG of the ideal ordering of labels, cut at k.
func maxDCGAtK(labels []float64, k int, gain []float64) float64 {
	sorted := slices.Clone(labels) // integers ≥ 0, no NaN
	slices.Sort(sorted)
	slices.Reverse(sorted)
	k = min(k, len(sorted))
	dcg := 0.0
	for i := 0; i < k; i++ {
		dcg += gain[int(sorted[i])] * discount(i)
	}
	return dcg
}

// NDCG computes LightGBM's mean NDCG@k over query groups for each k in at: gain 2^label-1
// (or labelGain when non-nil), discount 1/log2(rank+2), documents ranked by a stable sort on
// score descending (ties keep file order), and a query without relevant documents scores 1.
// groups holds group sizes; labels must be non-negative integers.
func NDCG(labels, scores []float64, groups []int, at []int, labelGain []float64) ([]float64, error) {
	if len(labels) != len(scores) {
		return nil, fmt.Errorf("ndcg: %d labels, %d scores", len(labels), len(scores))
	}
	if labelGain == nil {
		labelGain = defaultLabelGain()
	}
	for _, y := range labels {
		if y < 0 || y != math.Trunc(y) || int(y) >= len(labelGain) {
			return nil, fmt.Errorf("ndcg: label %v is not an integer in [0, %d]", y, len(labelGain)-1)
		}
	}
	for _, k := range at {
		if k <= 0 {
			return nil, fmt.Errorf("ndcg: cut-off %d must be positive", k)
		}
	}
	off := groupOffsets(groups)
	if off[len(off)-1] != len(labels) {
		return nil, fmt.Errorf("ndcg: groups cover %d rows, have %d", off[len(off)-1], len(labels))
	}
	e := newNDCGEval(labels, groups, at, labelGain)
	return e.eval(scores), nil
}

// ndcgEval caches the ideal DCGs of a fixed label set so that evaluating a model each
// iteration only sorts scores.
type ndcgEval struct {
	labels []float64
	off    []int
	at     []int
	gain   []float64
	invMax [][]float64 // [query][k index]; 0 marks a query with no relevant document
	idx    []int
}

func newNDCGEval(labels []float64, groups []int, at []int, gain []float64) *ndcgEval {
	e := &ndcgEval{labels: labels, off: groupOffsets(groups), at: at, gain: gain}
	e.invMax = make([][]float64, len(groups))
	for q := range groups {
		lab := labels[e.off[q]:e.off[q+1]]
		e.invMax[q] = make([]float64, len(at))
		for j, k := range at {
			if m := maxDCGAtK(lab, k, gain); m > 0 {
				e.invMax[q][j] = 1 / m
			}
		}
	}
	return e
}

func (e *ndcgEval) eval(scores []float64) []float64 {
	res := make([]float64, len(e.at))
	nq := len(e.off) - 1
	for q := 0; q < nq; q++ {
		b, end := e.off[q], e.off[q+1]
		lab, sc := e.labels[b:end], scores[b:end]
		if e.invMax[q][0] == 0 && allZero(e.invMax[q]) {
			for j := range res {
				res[j]++
			}
			continue
		}
		e.idx = e.idx[:0]
		for i := range sc {
			e.idx = append(e.idx, i)
		}
		slices.SortStableFunc(e.idx, func(a, c int) int { return scoreorder.Descending(sc[a], sc[c]) })
		for j, k := range e.at {
			if e.invMax[q][j] == 0 {
				res[j]++
				continue
			}
			dcg := 0.0
			for i := 0; i < min(k, len(sc)); i++ {
				dcg += e.gain[int(lab[e.idx[i]])] * discount(i)
			}
			res[j] += dcg * e.invMax[q][j]
		}
	}
	for j := range res {
		res[j] /= float64(nq)
	}
	return res
}

func allZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// Logloss is the mean binary cross-entropy of probabilities p against labels in {0, 1},
// with LightGBM's clipping at 1e-15.
func Logloss(labels, p []float64) float64 {
	const eps = 1e-15
	s := 0.0
	for i, y := range labels {
		q := min(max(p[i], eps), 1-eps)
		if y > 0.5 {
			s -= math.Log(q)
		} else {
			s -= math.Log(1 - q)
		}
	}
	return s / float64(len(labels))
}
