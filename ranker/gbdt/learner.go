package gbdt

import "math"

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
	ordered []histBin // (gradient, hessian) gathered in leaf row order
	leaves  []leafState
	feats   []int // features used by the current tree
}

func newLearner(p *Params, data *binned, mappers []*binMapper, workers int) *learner {
	nf := len(mappers)
	l := &learner{p: p, data: data, mappers: mappers, workers: workers}
	l.hist = make([][]histBin, p.NumLeaves)
	l.off = make([]int, nf+1)
	for f, m := range mappers {
		l.off[f+1] = l.off[f] + m.numBins()
	}
	total := l.off[nf]
	for i := range l.hist {
		l.hist[i] = make([]histBin, total)
	}
	l.scratch = make([]histBin, total)
	l.idx = make([]int32, data.rows)
	l.tmp = make([]int32, data.rows)
	l.ordered = make([]histBin, data.rows)
	l.leaves = make([]leafState, p.NumLeaves)
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
	l.leaves[0] = leafState{begin: 0, count: n, g: g, h: h}
	t := newTree(p.NumLeaves)
	t.LeafValue[0] = l.leafOutput(g, h)
	t.LeafWeight[0] = h
	t.LeafCount[0] = n
	leafParent := make([]int, p.NumLeaves)
	leafParent[0] = -1
	leafDepth := make([]int, p.NumLeaves)

	l.buildHist(&l.leaves[0], l.hist[0], grad, hess)
	l.leaves[0].best = l.findBest(&l.leaves[0], l.hist[0])

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
		if nl < parent.count-nl {
			l.buildHist(&l.leaves[leaf], l.scratch, grad, hess)
			l.subtract(l.hist[right], l.hist[leaf], l.scratch)
			l.hist[leaf], l.scratch = l.scratch, l.hist[leaf]
		} else {
			l.buildHist(&l.leaves[right], l.hist[right], grad, hess)
			l.subtract(l.hist[leaf], l.hist[leaf], l.hist[right])
		}
		if t.NumLeaves < p.NumLeaves {
			l.leaves[leaf].best = l.findBest(&l.leaves[leaf], l.hist[leaf])
			l.leaves[right].best = l.findBest(&l.leaves[right], l.hist[right])
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
func (l *learner) partition(leaf *leafState, s *split) int {
	rows := l.idx[leaf.begin : leaf.begin+leaf.count]
	col := l.data.cols[s.feature]
	m := l.mappers[s.feature]
	nanBin := -1
	if m.hasNaN {
		nanBin = m.nanBin()
	}
	thr := s.thrBin
	nl, nr := 0, 0
	for _, r := range rows {
		b := col[r]
		var left bool
		if int(b) == nanBin {
			left = s.defaultLeft
		} else {
			left = b <= thr
		}
		if left {
			rows[nl] = r
			nl++
		} else {
			l.tmp[nr] = r
			nr++
		}
	}
	copy(rows[nl:], l.tmp[:nr])
	return nl
}

// buildHist accumulates the leaf's histogram for the tree's features, in parallel over
// features (each feature is summed by one goroutine in row order, so it is deterministic).
func (l *learner) buildHist(leaf *leafState, dst []histBin, grad, hess []float64) {
	rows := l.idx[leaf.begin : leaf.begin+leaf.count]
	ordered := l.ordered[:len(rows)]
	for i, r := range rows {
		ordered[i] = histBin{grad[r], hess[r]}
	}
	workers := l.workers
	if len(rows)*len(l.feats) < 1<<16 {
		workers = 1 // goroutine hand-off costs more than it saves on small leaves
	}
	parallelFor(len(l.feats), workers, func(k int) {
		f := l.feats[k]
		h := dst[l.off[f]:l.off[f+1]]
		clear(h)
		col := l.data.cols[f]
		for i, r := range rows {
			b := &h[col[r]]
			gh := ordered[i]
			b.g += gh.g
			b.h += gh.h
		}
	})
}

// subtract sets dst = a - b over the tree's features (dst may alias a).
func (l *learner) subtract(dst, a, b []histBin) {
	for _, f := range l.feats {
		o, e := l.off[f], l.off[f+1]
		d, x, y := dst[o:e], a[o:e], b[o:e]
		for i := range d {
			d[i] = histBin{x[i].g - y[i].g, x[i].h - y[i].h}
		}
	}
}

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

// findBest scans every used feature's histogram for the split with the largest gain that
// respects min_data_in_leaf, min_sum_hessian_in_leaf, min_gain_to_split and max_depth, in
// LightGBM's order so that ties resolve the same way. Features with NaN try NaN on each
// side; that choice becomes the default direction.
func (l *learner) findBest(leaf *leafState, hist []histBin) split {
	p := l.p
	best := split{feature: -1}
	if p.MaxDepth > 0 && leaf.depth >= p.MaxDepth {
		return best
	}
	if leaf.count < 2*p.MinDataInLeaf || leaf.h < 2*p.MinSumHessianInLeaf || !(leaf.h > 0) {
		return best
	}
	G, H, N := leaf.g, leaf.h, int64(leaf.count)
	parentGain := l.leafGain(G, H)
	minGain := parentGain + p.MinGainToSplit
	// Like LightGBM 4, min_data_in_leaf is checked against counts estimated from hessians
	// (round(h·N/H) per bin): a bin's weight in the loss, not its raw size, decides.
	lim := splitLimits{n: N, h: H, minData: int64(p.MinDataInLeaf), minHess: p.MinSumHessianInLeaf, cntFactor: float64(N) / H}
	bestGain := math.Inf(-1)
	consider := func(gain float64, f, t int, defLeft bool, lg, lh float64) {
		if gain <= minGain || gain <= bestGain {
			return
		}
		bestGain = gain
		best = split{feature: f, thrBin: uint8(t), defaultLeft: defLeft, lg: lg, lh: lh, rg: G - lg, rh: H - lh}
	}
	for _, f := range l.feats {
		m := l.mappers[f]
		h := hist[l.off[f]:l.off[f+1]]
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
				consider(l.leafGain(lg, lh)+l.leafGain(r.g, r.h), f, t, true, lg, lh)
			}
		}
		if !m.hasNaN || nvb < 2 {
			continue
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
				consider(l.leafGain(left.g, left.h)+l.leafGain(G-left.g, H-left.h), f, t, false, left.g, left.h)
			}
		}
	}
	if best.feature >= 0 {
		best.gain = bestGain - minGain
	}
	return best
}
