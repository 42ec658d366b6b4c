package imported

import (
	"slices"

	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/params"
)

// Fold-in: the vector of a user the files do not know (or of every user, with fold_in), made
// from the request's history against the fixed item vectors.
//
// FoldALS is the user step of Spark's ALS, so a Spark model folds users in exactly as it trained
// them (ml.recommendation.ALS.computeFactors): with the distinct history items i, n of them, and
// λ = reg·n (Spark's ALS-WR scaling of regParam),
//
//	implicit: (YᵀY + Σ_i c1_i·y_i·y_iᵀ + λI)·x = Σ_i (1 + c1_i)·y_i,  c1_i = alpha·count_i
//	explicit: (Σ_i y_i·y_iᵀ + λI)·x = Σ_i r_i·y_i                     (r_i the latest rating)
//
// where YᵀY runs over every item row of the files, as Spark's does. It is solved by Cholesky
// in float64.
//
// FoldMean averages the history's item vectors (repeats count). It is the default for .npy
// embeddings: they usually come from a two-tower or sequence model whose user tower is not
// exported, and such towers are trained by a softmax over inner products, not by the squared
// loss a least-squares fold-in assumes; the mean of the history's embeddings is the
// parameter-free user vector in the same space (the YouTube-DNN average), and costs O(n·k)
// instead of O(n·k² + k³).

// foldIn sets s.user from a history; values are used by the explicit ALS fold-in only.
func (m *Model) foldIn(s *scratch, history []int32, values []float32) bool {
	if h := m.p.HistoryLen; h > 0 && len(history) > h {
		off := len(history) - h
		history = history[off:]
		if len(values) >= off {
			values = values[off:]
		} else {
			values = nil
		}
	}
	if m.p.fold() == FoldMean {
		return m.foldMean(s, history)
	}
	return m.foldALS(s, history, values)
}

// known reports whether dense item it has a vector.
func (m *Model) known(it int32) bool {
	return it >= 0 && int(it) < m.numItems && m.hasItem[it]
}

func (m *Model) foldMean(s *scratch, history []int32) bool {
	k := m.k
	clear(s.b)
	n := 0
	for _, it := range history {
		if !m.known(it) {
			continue
		}
		for d, v := range m.items[int(it)*k : int(it)*k+k] {
			s.b[d] += float64(v)
		}
		n++
	}
	if n == 0 {
		return false
	}
	for d, v := range s.b {
		s.user[d] = float32(v / float64(n))
	}
	return true
}

func (m *Model) foldALS(s *scratch, history []int32, values []float32) bool {
	implicit := m.p.Implicit
	// Group the usable entries by item: item<<32 | position, sorted.
	s.keys = s.keys[:0]
	for j, it := range history {
		if !m.known(it) {
			continue
		}
		if !implicit && (j >= len(values) || !params.Finite(float64(values[j]))) {
			continue // explicit ALS learns from rated entries only
		}
		s.keys = append(s.keys, int64(it)<<32|int64(j))
	}
	if len(s.keys) == 0 {
		return false
	}
	slices.Sort(s.keys)
	k := m.k
	a, b := s.a, s.b
	if implicit {
		copy(a, m.gram)
	} else {
		clear(a)
	}
	clear(b)
	n := 0
	for g := 0; g < len(s.keys); {
		it := s.keys[g] >> 32
		e := g + 1
		for e < len(s.keys) && s.keys[e]>>32 == it {
			e++
		}
		y := m.items[int(it)*k : int(it)*k+k]
		var w, r float64 // weight of y·yᵀ and of y in the right-hand side
		if implicit {
			c1 := m.p.Alpha * float64(e-g)
			w, r = c1, 1+c1
		} else {
			w, r = 1, float64(values[int32(s.keys[e-1])]) // the latest rating
		}
		addOuter(a, k, w, y)
		for d, v := range y {
			b[d] += r * float64(v)
		}
		n++
		g = e
	}
	lambda := m.p.Reg * float64(n)
	for d := range k {
		a[d*k+d] += lambda
	}
	if !kernel.Cholesky(a, k) {
		return false
	}
	kernel.CholSolve(a, k, b)
	for d, v := range b {
		s.user[d] = float32(v)
	}
	return true
}

// addOuter adds w·y·yᵀ to the lower triangle of the k×k matrix a.
func addOuter(a []float64, k int, w float64, y []float32) {
	if w == 0 {
		return
	}
	for i := range k {
		wy := w * float64(y[i])
		row := a[i*k : i*k+i+1]
		for j := range row {
			row[j] += wy * float64(y[j])
		}
	}
}
