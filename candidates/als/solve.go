package als

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/gonum"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
)

// blasImpl is gonum's stateless BLAS. Calling its methods directly skips the blas32 wrappers,
// which matters at k = 64 where a dot product takes a few nanoseconds.
var blasImpl gonum.Implementation

// cgTol is the squared residual norm below which conjugate gradient stops (as in implicit).
const cgTol = 1e-20

// rowSolver is one worker's scratch for row solves, so that no row allocates.
type rowSolver struct {
	k        int
	outer    []float32 // k×k: Σ w·y·yᵀ (lower triangle), see normalEquations
	wy, w    []float32 // a row's weighted factors (n×k) and weights (2n); grown on demand
	a        []float64 // k×k normal-equation matrix; its lower triangle is factored in place
	b        []float64 // right-hand side, then the solution
	b32      []float32 // right-hand side as summed
	r, p, ap []float32 // conjugate-gradient vectors
	yu, t    []float32 // a row's gathered fixed factors (n×k) and an n-vector; grown on demand
	x64, gx  []float64 // objective evaluation
}

func newRowSolver(k int) *rowSolver {
	return &rowSolver{
		k:     k,
		outer: make([]float32, k*k),
		a:     make([]float64, k*k),
		b:     make([]float64, k),
		b32:   make([]float32, k),
		r:     make([]float32, k),
		p:     make([]float32, k),
		ap:    make([]float32, k),
		x64:   make([]float64, k),
		gx:    make([]float64, k),
	}
}

// newRowSolvers returns one solver per worker of a Workers setting (0 = GOMAXPROCS).
func newRowSolvers(workers, k int) []*rowSolver {
	solvers := make([]*rowSolver, kernel.Workers(workers))
	for i := range solvers {
		solvers[i] = newRowSolver(k)
	}
	return solvers
}

// implicitExact sets x to the minimiser of Σ_i c_i·(p_i − xᵀy_i)² + λ‖x‖² over all columns i of
// fixed, with p_i = 1 and c_i = 1 + α·cnt[n] for the observed columns idx and p_i = 0, c_i = 1
// elsewhere. With the Gramian g = YᵀY this is the k×k system
//
//	(g + Σ_n (c_n − 1)·y_n·y_nᵀ + λI)·x = Σ_n c_n·y_n,
//
// solved by Cholesky. It reports false if the matrix is not numerically positive definite.
func (s *rowSolver) implicitExact(g []float64, fixed []float32, idx []int32, cnt []float32, alpha, lambda float64, x []float32) bool {
	w, v := s.weights(len(idx))
	for j, c := range cnt {
		c1 := alpha * float64(c)
		w[j], v[j] = float32(c1), float32(1+c1)
	}
	s.normalEquations(fixed, idx, w, v)
	return s.solveInto(g, lambda, x)
}

// explicitExact sets x to the minimiser of Σ_n (v_n − xᵀy_n)² + λ‖x‖² over the rated columns idx
// with ratings vals: (Σ_n y_n·y_nᵀ + λI)·x = Σ_n v_n·y_n.
func (s *rowSolver) explicitExact(fixed []float32, idx []int32, vals []float32, lambda float64, x []float32) bool {
	s.normalEquations(fixed, idx, nil, vals)
	return s.solveInto(nil, lambda, x)
}

// normalEquations sets the lower triangle of s.outer to Σ_n w_n·y_n·y_nᵀ (w = nil: all ones) and
// s.b to Σ_n v_n·y_n over the rows y_n = fixed[idx[n]]. The rows are gathered into a contiguous
// block Y_u, so that both are AVX2 kernels over it: Y_uᵀ·v, and (W·Y_u)ᵀ·Y_u in 6×16 register
// blocks (about 4× faster than gonum's SSE2 Sger/Ssyrk at k = 64). Sums are float32, like the
// factors; the k×k solve is float64.
func (s *rowSolver) normalEquations(fixed []float32, idx []int32, w, v []float32) {
	k, n := s.k, len(idx)
	yu := s.gathered(fixed, idx)
	clear(s.b32)
	kernel.MatTVecAdd32(yu, n, k, v, s.b32)
	for j, b := range s.b32 {
		s.b[j] = float64(b)
	}
	wy := yu
	if w != nil {
		s.wy = kernel.Grow(s.wy, n*k)
		kernel.ScaleRows32(s.wy, yu, n, k, w)
		wy = s.wy
	}
	kernel.AtBLower32(s.outer, wy, yu, n, k)
}

// weights returns two n-vectors of scratch, grown on demand.
func (s *rowSolver) weights(n int) (w, v []float32) {
	s.w = kernel.Grow(s.w, 2*n)
	return s.w[:n], s.w[n:]
}

// solveInto forms a = g + outer + λI (lower triangle; g may be nil for zero), solves a·x = b and
// stores x as float32.
func (s *rowSolver) solveInto(g []float64, lambda float64, x []float32) bool {
	k := s.k
	for i := 0; i < k; i++ {
		row, out := s.a[i*k:i*k+i+1], s.outer[i*k:i*k+i+1]
		if g != nil {
			for j, v := range g[i*k : i*k+i+1] {
				row[j] = v + float64(out[j])
			}
		} else {
			for j, v := range out {
				row[j] = float64(v)
			}
		}
		row[i] += lambda
	}
	if !kernel.Cholesky(s.a, k) {
		return false
	}
	kernel.CholSolve(s.a, k, s.b)
	for j, v := range s.b {
		x[j] = float32(v)
	}
	return true
}

// implicitCG improves x in place by up to steps conjugate-gradient steps on the system of
// implicitExact, starting from x (the previous sweep's value), as implicit's CG solver does.
// Everything is float32. The row's fixed factors are gathered once into a contiguous n×k block
// Y_u, so that each A·p = g·p + λp + Y_uᵀ·diag(c − 1)·Y_u·p is three AVX2 matrix-vector products
// (kernel.MatVec32, MatTVecAdd32), O(k² + n·k).
func (s *rowSolver) implicitCG(g []float32, fixed []float32, idx []int32, cnt []float32, alpha, lambda float32, steps int, x []float32) {
	k, n := s.k, len(idx)
	yu := s.gathered(fixed, idx)
	t := s.t[:n]
	r, p, ap := s.r, s.p, s.ap
	// r = b − A·x = Y_uᵀ·(c − (c − 1)·Y_u·x) − g·x − λx.
	kernel.MatVec32(g, k, k, x, r)
	for j, v := range x {
		r[j] = -r[j] - lambda*v
	}
	kernel.MatVec32(yu, n, k, x, t)
	for j, v := range t {
		c1 := alpha * cnt[j]
		t[j] = 1 + c1 - c1*v
	}
	kernel.MatTVecAdd32(yu, n, k, t, r)
	copy(p, r)
	rsOld := blasImpl.Sdot(k, r, 1, r, 1)
	for range steps {
		if rsOld < cgTol {
			return
		}
		kernel.MatVec32(g, k, k, p, ap)
		blasImpl.Saxpy(k, lambda, p, 1, ap, 1)
		kernel.MatVec32(yu, n, k, p, t)
		for j := range t {
			t[j] *= alpha * cnt[j]
		}
		kernel.MatTVecAdd32(yu, n, k, t, ap)
		pAp := blasImpl.Sdot(k, p, 1, ap, 1)
		if !(pAp > 0) { // converged to rounding noise
			return
		}
		a := rsOld / pAp
		blasImpl.Saxpy(k, a, p, 1, x, 1)
		blasImpl.Saxpy(k, -a, ap, 1, r, 1)
		rsNew := blasImpl.Sdot(k, r, 1, r, 1)
		beta := rsNew / rsOld
		for j, v := range r {
			p[j] = v + beta*p[j]
		}
		rsOld = rsNew
	}
}

// gathered copies the rows idx of fixed into the contiguous scratch block Y_u (len(idx)×k),
// growing the scratch to the longest row seen.
func (s *rowSolver) gathered(fixed []float32, idx []int32) []float32 {
	k, n := s.k, len(idx)
	s.yu = kernel.Grow(s.yu, n*k)
	s.t = kernel.Grow(s.t, n)
	for j, i := range idx {
		copy(s.yu[j*k:j*k+k], fixed[int(i)*k:int(i)*k+k])
	}
	return s.yu
}

// rowReg is the regularisation of a row whose observed values sum to sumR: reg·(base +
// α·sumR)^exp, where base is the number of columns (each contributes confidence 1).
func rowReg(reg, exp, alpha float64, base int, sumR float64) float64 {
	if exp == 0 {
		return reg
	}
	return reg * math.Pow(float64(base)+alpha*sumR, exp)
}

// rowSum adds a row's values in column order (fold-in adds them in the same order).
func rowSum(vals []float32) float64 {
	var s float64
	for _, v := range vals {
		s += float64(v)
	}
	return s
}

// rowChunk is the number of rows a worker claims at a time (kernel.For): small enough to balance
// rows of very different lengths, large enough to keep the shared counter cold.
const rowChunk = 16

// initFactors returns n×k factors drawn from N(0, 1/k) by rng, so that initial scores are O(1).
func initFactors(rng *rand.Rand, n, k int) []float32 {
	f := make([]float32, n*k)
	sd := 1 / math.Sqrt(float64(k))
	for i := range f {
		f[i] = float32(rng.NormFloat64() * sd)
	}
	return f
}

func newRNG(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
}

// checkMatrix validates a training matrix: consistent CSR structure, columns in range and
// ascending, finite values, and non-negative values when nonNeg is set.
func checkMatrix(m *dataset.Matrix, nonNeg bool) error {
	if m == nil {
		return fmt.Errorf("nil matrix")
	}
	if m.Rows < 0 || m.Cols < 0 || len(m.Indptr) != m.Rows+1 || m.Indptr[0] != 0 ||
		m.Indptr[m.Rows] != len(m.Indices) || len(m.Values) != len(m.Indices) {
		return fmt.Errorf("malformed %d×%d matrix (indptr %d, indices %d, values %d)",
			m.Rows, m.Cols, len(m.Indptr), len(m.Indices), len(m.Values))
	}
	if m.Rows > math.MaxInt32 || m.Cols > math.MaxInt32 {
		return fmt.Errorf("%d×%d matrix exceeds int32 IDs", m.Rows, m.Cols)
	}
	for r := 0; r < m.Rows; r++ {
		lo, hi := m.Indptr[r], m.Indptr[r+1]
		if lo > hi {
			return fmt.Errorf("row %d: indptr decreases", r)
		}
		for p := lo; p < hi; p++ {
			c, v := m.Indices[p], m.Values[p]
			if c < 0 || int(c) >= m.Cols || (p > lo && c <= m.Indices[p-1]) {
				return fmt.Errorf("row %d: column %d out of range or not ascending", r, c)
			}
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || (nonNeg && v < 0) {
				return fmt.Errorf("row %d, column %d: invalid value %v", r, c, v)
			}
		}
	}
	return nil
}
