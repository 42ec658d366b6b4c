package gbdt

// fastTree is a numeric-only tree laid out for branch-free, interleaved traversal: nodes
// [0, leaf0) are splits, nodes [leaf0, leaf0+numLeaves) are leaves that point to themselves,
// so every row can take exactly depth steps and a block of rows advances in lock step.
type fastTree struct {
	nodes  []fastNode
	leaf0  int32
	depth  int
	values []float64 // leaf values
}

// fastNode goes right when x > thr, or when x is NaN and nanRight. That covers missing type
// None (NaN is read as 0: right iff 0 > thr) and missing type NaN (NaN takes the default
// direction).
type fastNode struct {
	thr      float64
	feat     int32
	nanRight bool
	child    [2]int32
}

// newFastTree converts t, or returns false when t has categorical or zero-as-missing splits.
func newFastTree(t *Tree) (fastTree, bool) {
	nn := t.NumLeaves - 1
	ft := fastTree{leaf0: int32(nn), values: t.LeafValue, nodes: make([]fastNode, nn+t.NumLeaves)}
	for i := 0; i < nn; i++ {
		dt := t.DecisionType[i]
		mt := missingType(dt)
		if dt&decCategorical != 0 || mt == missingZero {
			return fastTree{}, false
		}
		n := fastNode{thr: t.Threshold[i], feat: int32(t.SplitFeature[i])}
		if mt == missingNaN {
			n.nanRight = dt&decDefaultLeft == 0
		} else {
			n.nanRight = 0 > n.thr
		}
		for k, c := range [2]int{t.LeftChild[i], t.RightChild[i]} {
			if c >= 0 {
				n.child[k] = int32(c)
			} else {
				n.child[k] = int32(nn + ^c)
			}
		}
		ft.nodes[i] = n
	}
	for l := 0; l < t.NumLeaves; l++ {
		self := int32(nn + l)
		ft.nodes[self] = fastNode{child: [2]int32{self, self}}
	}
	ft.depth = treeDepth(t, 0)
	return ft, true
}

func treeDepth(t *Tree, n int) int {
	if n < 0 || t.NumLeaves <= 1 {
		return 0
	}
	return 1 + max(treeDepth(t, t.LeftChild[n]), treeDepth(t, t.RightChild[n]))
}

// step moves one row one level down; written without branches on the data (the compiler
// turns b2i into SETcc) because the direction is a coin flip for the branch predictor.
func (ft *fastTree) step(n int32, x []float64) int32 {
	nd := &ft.nodes[n]
	v := x[nd.feat]
	return nd.child[b2i(v > nd.thr)|(b2i(v != v)&b2i(nd.nanRight))]
}

func b2i(b bool) int32 {
	var i int32
	if b {
		i = 1
	}
	return i
}

const fastBlock = 8

// addBlock adds the tree's output for rows r0..r0+fastBlock-1 of x (nf values per row). The
// eight walks are independent, so their loads overlap instead of waiting on each other.
// hasNaN selects NaN handling (a loop-invariant, well-predicted test).
func (ft *fastTree) addBlock(x []float64, nf, r0 int, out []float64, hasNaN bool) {
	nodes := ft.nodes
	o0, o1, o2, o3 := r0*nf, (r0+1)*nf, (r0+2)*nf, (r0+3)*nf
	o4, o5, o6, o7 := (r0+4)*nf, (r0+5)*nf, (r0+6)*nf, (r0+7)*nf
	_ = x[o7+nf-1]
	var n0, n1, n2, n3, n4, n5, n6, n7 int32
	leaf0 := ft.leaf0
	for d := 0; d < ft.depth; d++ {
		n0 = next(&nodes[n0], x, o0, hasNaN)
		n1 = next(&nodes[n1], x, o1, hasNaN)
		n2 = next(&nodes[n2], x, o2, hasNaN)
		n3 = next(&nodes[n3], x, o3, hasNaN)
		n4 = next(&nodes[n4], x, o4, hasNaN)
		n5 = next(&nodes[n5], x, o5, hasNaN)
		n6 = next(&nodes[n6], x, o6, hasNaN)
		n7 = next(&nodes[n7], x, o7, hasNaN)
		if min(n0, n1, n2, n3, n4, n5, n6, n7) >= leaf0 {
			break
		}
	}
	v := ft.values
	out[r0+0] += v[n0-leaf0]
	out[r0+1] += v[n1-leaf0]
	out[r0+2] += v[n2-leaf0]
	out[r0+3] += v[n3-leaf0]
	out[r0+4] += v[n4-leaf0]
	out[r0+5] += v[n5-leaf0]
	out[r0+6] += v[n6-leaf0]
	out[r0+7] += v[n7-leaf0]
}

// next is one step of one row whose features start at x[o].
func next(a *fastNode, x []float64, o int, hasNaN bool) int32 {
	v := x[o+int(a.feat)]
	k := b2i(v > a.thr)
	if hasNaN {
		k |= b2i(v != v) & b2i(a.nanRight)
	}
	return a.child[k]
}

// addRow adds the tree's output for one row.
func (ft *fastTree) addRow(x []float64, out *float64) {
	n := int32(0)
	for n < ft.leaf0 {
		n = ft.step(n, x)
	}
	*out += ft.values[n-ft.leaf0]
}
