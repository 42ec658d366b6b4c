package gbdt

import (
	"context"
	"math"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// Bits of LightGBM's decision_type.
const (
	decCategorical = 1 << 0
	decDefaultLeft = 1 << 1
	// Bits 2-3 hold the missing type.
	missingNone = 0
	missingZero = 1
	missingNaN  = 2
)

// kZeroThreshold is LightGBM's bound of the zero bin and its "is zero" tolerance.
const kZeroThreshold = float64(float32(1e-35)) // LightGBM: 1e-35f

// Tree is one regression tree in LightGBM's array layout: internal node i splits on
// SplitFeature[i]; a child index c >= 0 is an internal node and c < 0 is leaf ^c.
type Tree struct {
	NumLeaves      int
	NumCat         int
	SplitFeature   []int
	SplitGain      []float64
	Threshold      []float64
	DecisionType   []uint8
	LeftChild      []int
	RightChild     []int
	LeafValue      []float64 // shrinkage already applied
	LeafWeight     []float64
	LeafCount      []int
	InternalValue  []float64
	InternalWeight []float64
	InternalCount  []int
	CatBoundaries  []int
	CatThreshold   []uint32
	Shrinkage      float64

	// Training-only: the threshold as a bin index.
	thresholdBin []uint8
}

func missingType(dt uint8) int { return int(dt>>2) & 3 }

// decide reports whether x goes left at node i, with LightGBM's semantics.
func (t *Tree) decide(i int, x float64) bool {
	dt := t.DecisionType[i]
	if dt&decCategorical != 0 {
		return t.categoricalDecision(x, t.Threshold[i], dt)
	}
	mt := missingType(dt)
	if x != x && mt != missingNaN {
		x = 0
	}
	if (mt == missingZero && x > -kZeroThreshold && x <= kZeroThreshold) || (mt == missingNaN && x != x) {
		return dt&decDefaultLeft != 0
	}
	return x <= t.Threshold[i]
}

// categoricalDecision looks category int(x) up in the bitset numbered thr (LightGBM 4: NaN
// goes right with missing type NaN and is category 0 otherwise; negative categories go right).
func (t *Tree) categoricalDecision(x, thr float64, dt uint8) bool {
	if x != x {
		if missingType(dt) == missingNaN {
			return false
		}
		x = 0
	}
	if x < 0 || x >= math.MaxInt32 {
		return false
	}
	c := int(x)
	ci := int(thr)
	lo, hi := t.CatBoundaries[ci], t.CatBoundaries[ci+1]
	w := c / 32
	if w >= hi-lo {
		return false
	}
	return t.CatThreshold[lo+w]>>(uint(c)%32)&1 != 0
}

// Predict returns the tree's output for one row of raw feature values.
func (t *Tree) Predict(x []float64) float64 {
	if t.NumLeaves <= 1 {
		return t.LeafValue[0]
	}
	n := 0
	for n >= 0 {
		if t.decide(n, x[t.SplitFeature[n]]) {
			n = t.LeftChild[n]
		} else {
			n = t.RightChild[n]
		}
	}
	return t.LeafValue[^n]
}

// leafOfBins finds the leaf of row r of a binned matrix (training and validation updates).
func (t *Tree) leafOfBins(b *binned, mappers []*binMapper, r int) int {
	if t.NumLeaves <= 1 {
		return 0
	}
	n := 0
	for n >= 0 {
		f := t.SplitFeature[n]
		v := b.cols[f][r]
		var left bool
		if m := mappers[f]; m.hasNaN && int(v) == m.nanBin() {
			left = t.DecisionType[n]&decDefaultLeft != 0
		} else {
			left = v <= t.thresholdBin[n]
		}
		if left {
			n = t.LeftChild[n]
		} else {
			n = t.RightChild[n]
		}
	}
	return ^n
}

// addBias adds v to every output, as LightGBM does with the initial score of the first tree.
func (t *Tree) addBias(v float64) {
	for i := range t.LeafValue {
		t.LeafValue[i] += v
	}
	for i := range t.InternalValue {
		t.InternalValue[i] += v
	}
}

// parallelFor runs fn(0..n-1) on up to workers goroutines through kernel.For; each index runs
// exactly once, so results written per index are deterministic.
func parallelFor(n, workers int, fn func(i int)) {
	kernel.For(context.Background(), n, 1, workers, func(_, i, _ int) error { fn(i); return nil })
}
