package gbdt

import "fmt"

// node is a flattened split. child holds the left and right successors: >= 0 is a node
// index in the same flat array, < 0 is ^(index into leaves).
type node struct {
	thr   float64
	feat  int32
	kind  uint8 // kindPlain, kindMissing or kindCategorical
	dt    uint8 // decision_type, for the non-plain kinds
	child [2]int32
}

const (
	// kindPlain: numeric split with missing type None: NaN is read as 0, then x <= thr.
	kindPlain uint8 = iota
	kindMissing
	kindCategorical
)

// scorer is the model compiled for batch scoring: all trees' nodes in one array, no pointers,
// so scoring a batch allocates nothing.
type scorer struct {
	nodes  []node
	leaves []float64
	roots  []int32 // per tree: node index, or ^leaf for a single-leaf tree
	trees  []*Tree // for categorical decisions
	treeOf []int32 // node -> tree index
	coef   float64
	// fast holds every tree in the branch-free layout when no tree needs categorical or
	// zero-as-missing decisions (nil otherwise).
	fast []fastTree
}

// compile flattens m.Trees into the scorer.
func (m *Model) compile() error {
	s := scorer{coef: 1}
	if m.AverageOutput && len(m.Trees) > 0 {
		s.coef = 1 / float64(len(m.Trees))
	}
	s.trees = m.Trees
	for ti, t := range m.Trees {
		nb := int32(len(s.nodes))
		lb := int32(len(s.leaves))
		s.leaves = append(s.leaves, t.LeafValue...)
		if t.NumLeaves <= 1 {
			s.roots = append(s.roots, ^lb)
			continue
		}
		s.roots = append(s.roots, nb)
		for i := 0; i < t.NumLeaves-1; i++ {
			f := t.SplitFeature[i]
			if f < 0 || f >= m.NumFeatures {
				return fmt.Errorf("tree %d node %d: feature %d out of range", ti, i, f)
			}
			n := node{thr: t.Threshold[i], feat: int32(f), dt: t.DecisionType[i]}
			switch {
			case n.dt&decCategorical != 0:
				n.kind = kindCategorical
			case missingType(n.dt) != missingNone:
				n.kind = kindMissing
			}
			for k, c := range [2]int{t.LeftChild[i], t.RightChild[i]} {
				if c >= 0 {
					n.child[k] = nb + int32(c)
				} else {
					n.child[k] = ^(lb + int32(^c))
				}
			}
			s.nodes = append(s.nodes, n)
			s.treeOf = append(s.treeOf, int32(ti))
		}
	}
	s.fast = make([]fastTree, 0, len(m.Trees))
	for _, t := range m.Trees {
		ft, ok := newFastTree(t)
		if !ok {
			s.fast = nil
			break
		}
		s.fast = append(s.fast, ft)
	}
	m.scorer = s
	return nil
}

// Score writes the raw score of each row to out. rows is row-major with m.NumFeatures values
// per row and len(out) rows; NaN is a missing value. It allocates nothing and is safe for
// concurrent use.
func (m *Model) Score(rows []float64, out []float64) error {
	nf := m.NumFeatures
	if len(rows) != len(out)*nf {
		return fmt.Errorf("gbdt: %d values for %d rows of %d features", len(rows), len(out), nf)
	}
	if m.scorer.fast == nil || m.AverageOutput {
		for r := range out {
			out[r] = m.scorer.score(rows[r*nf : (r+1)*nf])
		}
		return nil
	}
	// Tree by tree keeps a tree's nodes in L1 while blocks of rows walk it in lock step; each
	// row still sums its trees in model order, so results equal the row-by-row walk.
	clear(out)
	n := len(out)
	full := n - n%fastBlock
	hasNaN := false
	for _, v := range rows {
		if v != v {
			hasNaN = true
			break
		}
	}
	for i := range m.scorer.fast {
		ft := &m.scorer.fast[i]
		for r := 0; r < full; r += fastBlock {
			ft.addBlock(rows, nf, r, out, hasNaN)
		}
		for r := full; r < n; r++ {
			ft.addRow(rows[r*nf:(r+1)*nf], &out[r])
		}
	}
	return nil
}

// ScoreRow returns the raw score of one row of m.NumFeatures values.
func (m *Model) ScoreRow(x []float64) float64 {
	return m.scorer.score(x[:m.NumFeatures])
}

func (s *scorer) score(x []float64) float64 {
	sum := 0.0
	nodes := s.nodes
	for _, n := range s.roots {
		for n >= 0 {
			nd := &nodes[n]
			v := x[nd.feat]
			if nd.kind == kindPlain {
				if v != v {
					v = 0
				}
				if v <= nd.thr {
					n = nd.child[0]
				} else {
					n = nd.child[1]
				}
				continue
			}
			if s.decideSlow(nd, n, v) {
				n = nd.child[0]
			} else {
				n = nd.child[1]
			}
		}
		// Multiplying each tree's output (as leaves does for random forests) keeps the sum
		// bit-identical to leaves; coef is 1 for boosted models.
		sum += s.leaves[^n] * s.coef
	}
	return sum
}

func (s *scorer) decideSlow(nd *node, n int32, v float64) bool {
	if nd.kind == kindCategorical {
		t := s.trees[s.treeOf[n]]
		return t.categoricalDecision(v, nd.thr, nd.dt)
	}
	mt := missingType(nd.dt)
	if v != v && mt != missingNaN {
		v = 0
	}
	if (mt == missingZero && v > -kZeroThreshold && v <= kZeroThreshold) || (mt == missingNaN && v != v) {
		return nd.dt&decDefaultLeft != 0
	}
	return v <= nd.thr
}
