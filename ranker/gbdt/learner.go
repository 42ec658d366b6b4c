package gbdt

import (
	"math"
	"unsafe"

	"github.com/cascade-rec/cascade/ranker/gbdt/internal/hist"
)

// histBin accumulates the gradients and hessians of one bin. Counts are not kept: like
// LightGBM 4, min_data_in_leaf is checked against counts estimated from hessians.
type histBin struct {
	g, h float64
}

// split is the best split found for a leaf.
type split struct {
	feature     int // -1: none
	thrBin      uint8
	defaultLeft bool
	gain        float64 // improvement over not splitting
	lg, lh      float64
	rg, rh      float64
}

type leafState struct {
	begin, count int // range in learner.idx
	g, h         float64
	depth        int
	best         split
}

// parallelMinWork is the least work (rows, or rows × features) worth splitting between
// goroutines; a variable so that tests can run the parallel paths on small data.
var parallelMinWork = 1 << 15

// learner grows one tree leaf-wise on histograms, reusing every buffer across trees.
type learner struct {
	p       *Params
	data    *binned
	mappers []*binMapper
	workers int

	hist    [][]histBin // one histogram per leaf slot: feature f at off[f]:off[f+1]
	off     []int
	scratch []histBin
	idx     []int32 // rows of each leaf, contiguous per leaf (LightGBM's DataPartition)
	tmp     []int32
	leaves  []leafState
	feats   []int // features used by the current tree

	gh        []histBin  // (gradient, hessian) by row for the tree being grown
	ordered   []histBin  // gh gathered in the order of a leaf's rows
	cand      [2][]split // best split of each feature of l.feats, for the two leaves scanned
	blockLeft []int      // left count of each worker's block in partition
}

func newLearner(p *Params, data *binned, mappers []*binMapper, workers int) *learner {
	nf := len(mappers)
	l := &learner{p: p, data: data, mappers: mappers, workers: workers}
	l.hist = make([][]histBin, p.NumLeaves)
	// Every feature gets 256 bins so that a uint8 bin indexes its histogram without a
	// bounds check; the bins past numBins stay zero.
	l.off = make([]int, nf+1)
	for f := range mappers {
		l.off[f+1] = l.off[f] + 256
	}
	total := l.off[nf]
	for i := range l.hist {
		l.hist[i] = make([]histBin, total)
	}
	l.scratch = make([]histBin, total)
	l.idx = make([]int32, data.rows)
	l.tmp = make([]int32, data.rows)
	l.gh = make([]histBin, data.rows)
	l.leaves = make([]leafState, p.NumLeaves)
	l.cand = [2][]split{make([]split, nf), make([]split, nf)}
	l.ordered = make([]histBin, data.rows)
	l.blockLeft = make([]int, workers)
	return l
}

// leafOutput is the Newton step -G/(H+λ2) (lambda_l1 = 0); the 1e-15 keeps an all-zero
// hessian leaf finite.
func (l *learner) leafOutput(g, h float64) float64 {
	return -g / (h + l.p.LambdaL2 + 1e-15)
}

// leafGain is the loss reduction G²/(H+λ2) of a leaf at its optimal output.
func (l *learner) leafGain(g, h float64) float64 {
	return g * g / (h + l.p.LambdaL2 + 1e-15)
}

// grow builds a tree on the rows in bag with the given features. Leaf values are not yet
// shrunk.
func (l *learner) grow(grad, hess []float64, bag []int32, feats []int) *Tree {
	p := l.p
	l.feats = feats
	n := copy(l.idx, bag)
	var g, h float64
	for _, r := range bag {
		g += grad[r]
		h += hess[r]
	}
	for r := range l.gh {
		l.gh[r] = histBin{grad[r], hess[r]}
	}
	l.leaves[0] = leafState{begin: 0, count: n, g: g, h: h}
	t := newTree(p.NumLeaves)
	t.LeafValue[0] = l.leafOutput(g, h)
	t.LeafWeight[0] = h
	t.LeafCount[0] = n
	leafParent := make([]int, p.NumLeaves)
	leafParent[0] = -1
	leafDepth := make([]int, p.NumLeaves)

	l.histAndSplits(&l.leaves[0], l.hist[0], nil, nil, nil, p.NumLeaves > 1)

	for t.NumLeaves < p.NumLeaves {
		best := -1
		for i := 0; i < t.NumLeaves; i++ {
			s := &l.leaves[i].best
			if s.feature >= 0 && (best < 0 || s.gain > l.leaves[best].best.gain) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		leaf := best
		s := l.leaves[leaf].best
		right := t.NumLeaves
		node := t.NumLeaves - 1

		// Record the split in LightGBM's layout (Tree::Split).
		if par := leafParent[leaf]; par >= 0 {
			if t.LeftChild[par] == ^leaf {
				t.LeftChild[par] = node
			} else {
				t.RightChild[par] = node
			}
		}
		m := l.mappers[s.feature]
		t.SplitFeature = append(t.SplitFeature, s.feature)
		t.SplitGain = append(t.SplitGain, s.gain)
		t.Threshold = append(t.Threshold, m.upper[s.thrBin])
		t.thresholdBin = append(t.thresholdBin, s.thrBin)
		dt := uint8(0)
		if s.defaultLeft {
			dt |= decDefaultLeft
		}
		if m.hasNaN {
			dt |= missingNaN << 2
		}
		t.DecisionType = append(t.DecisionType, dt)
		t.LeftChild = append(t.LeftChild, ^leaf)
		t.RightChild = append(t.RightChild, ^right)
		t.InternalValue = append(t.InternalValue, t.LeafValue[leaf])
		t.InternalWeight = append(t.InternalWeight, s.lh+s.rh)
		// Partition rows and set up the children.
		parent := l.leaves[leaf]
		nl := l.partition(&parent, &s)
		t.InternalCount = append(t.InternalCount, parent.count)
		leafParent[leaf], leafParent[right] = node, node
		t.LeafValue[leaf] = l.leafOutput(s.lg, s.lh)
		t.LeafWeight[leaf] = s.lh
		t.LeafCount[leaf] = nl
		t.LeafValue[right] = l.leafOutput(s.rg, s.rh)
		t.LeafWeight[right] = s.rh
		t.LeafCount[right] = parent.count - nl
		leafDepth[leaf]++
		leafDepth[right] = leafDepth[leaf]
		t.NumLeaves++

		l.leaves[leaf] = leafState{begin: parent.begin, count: nl, g: s.lg, h: s.lh, depth: leafDepth[leaf]}
		l.leaves[right] = leafState{begin: parent.begin + nl, count: parent.count - nl, g: s.rg, h: s.rh, depth: leafDepth[right]}

		// Histogram subtraction: build the smaller child, the sibling is parent - child (the
		// right child on a tie, as LightGBM).
		find := t.NumLeaves < p.NumLeaves
		if nl < parent.count-nl {
			l.histAndSplits(&l.leaves[leaf], l.scratch, &l.leaves[right], l.hist[right], l.hist[leaf], find)
			l.hist[leaf], l.scratch = l.scratch, l.hist[leaf]
		} else {
			l.histAndSplits(&l.leaves[right], l.hist[right], &l.leaves[leaf], l.hist[leaf], l.hist[leaf], find)
		}
	}
	return t
}

// addToScores adds the (shrunk) leaf values of t, just grown, to the scores of the rows in
// the bag, using the partition instead of walking the tree.
func (l *learner) addToScores(t *Tree, scores []float64) {
	for i := 0; i < t.NumLeaves; i++ {
		v := t.LeafValue[i]
		lf := &l.leaves[i]
		for _, r := range l.idx[lf.begin : lf.begin+lf.count] {
			scores[r] += v
		}
	}
}

func newTree(maxLeaves int) *Tree {
	return &Tree{
		NumLeaves:  1,
		LeafValue:  make([]float64, maxLeaves),
		LeafWeight: make([]float64, maxLeaves),
		LeafCount:  make([]int, maxLeaves),
	}
}

// finish trims the leaf arrays to the leaves actually grown.
func (t *Tree) finish() {
	t.LeafValue = t.LeafValue[:t.NumLeaves]
	t.LeafWeight = t.LeafWeight[:t.NumLeaves]
	t.LeafCount = t.LeafCount[:t.NumLeaves]
}

// partition reorders the leaf's rows stably into left then right and returns the left count.
// Large leaves are cut into one block per worker; each block is partitioned on its own and
// the blocks' lefts, then their rights, are put together in block order: the same order as
// one pass over the whole leaf.
func (l *learner) partition(leaf *leafState, s *split) int {
	rows := l.idx[leaf.begin : leaf.begin+leaf.count]
	tmp := l.tmp[leaf.begin : leaf.begin+leaf.count]
	workers := l.workers
	if len(rows) < parallelMinWork {
		workers = 1
	}
	if workers == 1 {
		nl := l.partitionBlock(rows, tmp, s)
		copy(rows[nl:], tmp[:len(rows)-nl])
		return nl
	}
	nls := l.blockLeft[:workers]
	parallelFor(workers, workers, func(w int) {
		lo, hi := len(rows)*w/workers, len(rows)*(w+1)/workers
		nls[w] = l.partitionBlock(rows[lo:hi], tmp[lo:hi], s)
	})
	nl := 0
	for w, n := range nls {
		lo := len(rows) * w / workers
		nl += copy(rows[nl:], rows[lo:lo+n]) // moves down: nl <= lo
	}
	at := nl
	for w, n := range nls {
		lo, hi := len(rows)*w/workers, len(rows)*(w+1)/workers
		at += copy(rows[at:], tmp[lo:hi-n])
	}
	return nl
}

// partitionBlock moves the block's left rows to its front in order and its right rows, in
// order, to the front of tmp (as long as rows); it returns the left count. Each row is written to both
// places and the counts advance by the decision, with no branch on it: the direction is a
// coin flip for the predictor.
func (l *learner) partitionBlock(rows, tmp []int32, s *split) int {
	col := l.data.cols[s.feature]
	m := l.mappers[s.feature]
	nanBin := 256 // no bin
	if m.hasNaN {
		nanBin = m.nanBin()
	}
	thr, defLeft := int(s.thrBin), b2i(s.defaultLeft)
	nl := 0
	tmp = tmp[:len(rows)]
	for i, r := range rows {
		b := int(col[r])
		isNaN := b2i(b == nanBin)
		left := int(isNaN&defLeft | (1-isNaN)&b2i(b <= thr))
		rows[nl] = r
		tmp[i-nl] = r
		nl += left
	}
	return nl
}

// histAndSplits builds the histogram of leaf a into ha; with b, it also derives b's
// histogram hb = parent - ha (hb may alias parent); with find, it sets the best split of a
// (and b). The features are cut into one contiguous share per worker, and each share is
// done start to end by one goroutine: every bin is summed in row order and every split is
// chosen in feature order, so the tree does not depend on the number of workers.
func (l *learner) histAndSplits(a *leafState, ha []histBin, b *leafState, hb, parent []histBin, find bool) {
	rows := l.idx[a.begin : a.begin+a.count]
	nf := len(l.feats)
	workers := l.workers
	if len(rows)*nf < parallelMinWork {
		workers = 1 // goroutine hand-off costs more than it saves on small leaves
	}
	// The leaf's (gradient, hessian) in row order, read once per feature.
	ordered := l.ordered[:len(rows)]
	gh := l.gh
	const chunk = 1 << 14
	parallelFor((len(rows)+chunk-1)/chunk, workers, func(c int) {
		for i := c * chunk; i < min((c+1)*chunk, len(rows)); i++ {
			ordered[i] = gh[rows[i]]
		}
	})
	findA := find && l.splittable(a)
	findB := find && b != nil && l.splittable(b)
	parallelFor(workers, workers, func(w int) {
		fs := l.feats[nf*w/workers : nf*(w+1)/workers]
		l.buildHist(rows, ordered, ha, fs)
		for k, f := range fs {
			o, e := l.off[f], l.off[f+1]
			if b != nil {
				d, x, y := hb[o:e], parent[o:e], ha[o:e]
				for i := range d {
					d[i] = histBin{x[i].g - y[i].g, x[i].h - y[i].h}
				}
			}
			k += nf * w / workers
			if findA {
				l.cand[0][k] = l.bestOfFeature(a, ha[o:e], f)
			}
			if findB {
				l.cand[1][k] = l.bestOfFeature(b, hb[o:e], f)
			}
		}
	})
	a.best = l.pick(a, l.cand[0][:nf], findA)
	if b != nil {
		b.best = l.pick(b, l.cand[1][:nf], findB)
	}
}

// featHist is feature f's histogram in hist.
func (l *learner) featHist(hist []histBin, f int) *[256]histBin {
	return (*[256]histBin)(hist[l.off[f] : l.off[f]+256])
}

// buildHist sums the leaf's ordered gradients into dst for the features fs, four features
// per pass over the rows (hist.Add4): each (gradient, hessian) load then serves four columns,
// the four histograms (16 KB) stay in L1, and the four updates of a row are independent. A
// last group of fewer than four features fills the pass with a scratch histogram. Every bin
// still adds its rows in row order.
func (l *learner) buildHist(rows []int32, ordered, dst []histBin, fs []int) {
	ordered = ordered[:len(rows)]
	var scratch [512]float64
	for k := 0; k < len(fs); k += 4 {
		var cols [4][]uint8
		var hs [4]*[512]float64
		for j := range 4 {
			if k+j < len(fs) {
				h := l.featHist(dst, fs[k+j])
				clear(h[:])
				cols[j], hs[j] = l.data.cols[fs[k+j]], binPairs(h)
			} else {
				cols[j], hs[j] = cols[0], &scratch
			}
		}
		hist.Add4(rows, pairs(ordered), cols[0], cols[1], cols[2], cols[3], hs[0], hs[1], hs[2], hs[3])
	}
}

// pairs views bins as the (gradient, hessian) pairs of float64 that package hist takes.
func pairs(b []histBin) []float64 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(&b[0])), 2*len(b))
}

// binPairs views a feature's 256 bins as 512 float64 (histBin is two float64, no padding).
func binPairs(h *[256]histBin) *[512]float64 { return (*[512]float64)(unsafe.Pointer(h)) }

// splitLimits are what both sides of a leaf's split must hold: the leaf's totals and the minimums.
type splitLimits struct {
	n                  int64 // the leaf's count
	h                  float64
	minData            int64
	minHess, cntFactor float64
}

// splitSide is the side of a candidate split that a threshold scan adds bins to.
type splitSide struct {
	g, h float64
	n    int64 // estimated from hessians
}

// add puts bin b on the side.
func (s *splitSide) add(b *histBin, cntFactor float64) {
	s.g += b.g
	s.h += b.h
	s.n += int64(math.Round(b.h * cntFactor))
}

// check reports whether a split with side s respects the limits (ok), or whether no later
// threshold of the scan can (done: the other side has become too small).
func (lim *splitLimits) check(s *splitSide) (ok, done bool) {
	if s.n < lim.minData || s.h < lim.minHess {
		return false, false
	}
	if lim.n-s.n < lim.minData || lim.h-s.h < lim.minHess {
		return false, true
	}
	return true, false
}

// splittable reports whether the leaf may split at all (depth, and room for two children).
func (l *learner) splittable(leaf *leafState) bool {
	p := l.p
	if p.MaxDepth > 0 && leaf.depth >= p.MaxDepth {
		return false
	}
	return leaf.count >= 2*p.MinDataInLeaf && leaf.h >= 2*p.MinSumHessianInLeaf && leaf.h > 0
}

// bestOfFeature scans feature f's histogram h for the split with the largest gain that
// respects min_data_in_leaf, min_sum_hessian_in_leaf and min_gain_to_split, in LightGBM's
// order so that ties resolve the same way. With NaN, the feature tries NaN on each side;
// that choice becomes the default direction. The gain is the children's (not yet less the
// parent's); feature -1 means none.
func (l *learner) bestOfFeature(leaf *leafState, h []histBin, f int) split {
	p := l.p
	best := split{feature: -1}
	G, H, N := leaf.g, leaf.h, int64(leaf.count)
	minGain := l.leafGain(G, H) + p.MinGainToSplit
	// Like LightGBM 4, min_data_in_leaf is checked against counts estimated from hessians
	// (round(h·N/H) per bin): a bin's weight in the loss, not its raw size, decides.
	lim := splitLimits{n: N, h: H, minData: int64(p.MinDataInLeaf), minHess: p.MinSumHessianInLeaf, cntFactor: float64(N) / H}
	bestGain := math.Inf(-1)
	consider := func(gain float64, t int, defLeft bool, lg, lh float64) {
		if gain <= minGain || gain <= bestGain {
			return
		}
		bestGain = gain
		best = split{feature: f, thrBin: uint8(t), defaultLeft: defLeft, gain: gain, lg: lg, lh: lh, rg: G - lg, rh: H - lh}
	}
	m := l.mappers[f]
	nvb := len(m.upper)
	// Scan thresholds from the top as LightGBM does (ties go to the highest threshold);
	// NaN, when the feature has it, stays on the left: default left.
	var r splitSide
	for t := nvb - 2; t >= 0; t-- {
		r.add(&h[t+1], lim.cntFactor)
		ok, done := lim.check(&r)
		if done {
			break
		}
		if ok {
			lg, lh := G-r.g, H-r.h
			consider(l.leafGain(lg, lh)+l.leafGain(r.g, r.h), t, true, lg, lh)
		}
	}
	if !m.hasNaN || nvb < 2 {
		return best
	}
	// Then from the bottom with NaN on the right: default right.
	var left splitSide
	for t := 0; t <= nvb-2; t++ {
		left.add(&h[t], lim.cntFactor)
		ok, done := lim.check(&left)
		if done {
			break
		}
		if ok {
			consider(l.leafGain(left.g, left.h)+l.leafGain(G-left.g, H-left.h), t, false, left.g, left.h)
		}
	}
	return best
}

// pick takes the best of the features' best splits, the first in feature order on a tie
// (what one scan over all features keeps), and makes its gain the improvement over not
// splitting.
func (l *learner) pick(leaf *leafState, cand []split, ok bool) split {
	best := split{feature: -1}
	if !ok {
		return best
	}
	for _, c := range cand {
		if c.feature >= 0 && (best.feature < 0 || c.gain > best.gain) {
			best = c
		}
	}
	if best.feature >= 0 {
		best.gain -= l.leafGain(leaf.g, leaf.h) + l.p.MinGainToSplit
	}
	return best
}
