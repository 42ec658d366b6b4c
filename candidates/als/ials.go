package als

import (
	"context"
	"fmt"
	"slices"

	"gonum.org/v1/gonum/blas"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/progress"
)

// IALSModel is a trained implicit-ALS model. It is a candidates.Source and a candidates.Scorer
// and is safe for concurrent use. Recommend and Score fold in the history as FoldIn does.
type IALSModel struct {
	factorModel
	params IALSParams
	gram   []float64 // itemsᵀ·items (k×k), the YᵀY of every fold-in
}

var (
	_ candidates.Source = (*IALSModel)(nil)
	_ candidates.Scorer = (*IALSModel)(nil)
)

func newIALSModel(p IALSParams, numUsers, numItems int, users, items []float32) *IALSModel {
	k := p.Factors
	m := &IALSModel{params: p, gram: make([]float64, k*k)}
	kernel.Gram(items, k, m.gram)
	m.init(ialsFormat, m.params.fields(), k, numUsers, numItems, users, items, func(s *foldScratch, q candidates.Query) bool {
		return m.foldIn(s, q.History)
	})
	return m
}

// TrainIALS trains implicit ALS on events: the interaction count of a (user, item) pair is its
// number of events; events with a user ≥ numUsers or an item ≥ numItems are ignored.
func TrainIALS(ctx context.Context, events []dataset.Event, numUsers, numItems int, p IALSParams, opt progress.Options) (*IALSModel, TrainStats, error) {
	return TrainIALSWeighted(ctx, events, numUsers, numItems, nil, p, opt)
}

// TrainIALSWeighted is TrainIALS where an event adds its type's weight to the pair's r, so that
// the confidence is 1 + α·Σ w(type) (a purchase counting as several views); nil weights are
// TrainIALS. Fold-in at request time still counts each history event once: the live history
// keeps no event type.
func TrainIALSWeighted(ctx context.Context, events []dataset.Event, numUsers, numItems int, w dataset.TypeWeights, p IALSParams, opt progress.Options) (*IALSModel, TrainStats, error) {
	if err := p.Validate(); err != nil {
		return nil, TrainStats{}, err
	}
	if err := checkDims(KindIALS, numUsers, numItems); err != nil {
		return nil, TrainStats{}, err
	}
	return TrainIALSMatrix(ctx, dataset.WeightedCounts(events, numUsers, numItems, w), p, opt)
}

// TrainIALSMatrix trains implicit ALS on a user×item matrix of interaction counts (finite, ≥ 0;
// a stored entry is an observed pair). Each iteration solves every item against the users, then
// every user against the items, so the returned user factors are exactly what FoldIn computes
// from each user's training row (with solver cholesky). It returns ctx's error, wrapped, if ctx is
// cancelled.
func TrainIALSMatrix(ctx context.Context, r *dataset.Matrix, p IALSParams, opt progress.Options) (*IALSModel, TrainStats, error) {
	if err := p.Validate(); err != nil {
		return nil, TrainStats{}, err
	}
	if err := checkMatrix(r, true); err != nil {
		return nil, TrainStats{}, fmt.Errorf("ials: %w", err)
	}
	users, items := initialFactors(p.Seed, r.Rows, r.Cols, p.Factors)
	t := newIALSTrainer(p, r, users, items)
	stats, err := runIterations(ctx, KindIALS, p.Iterations, opt, func() (float64, error) { return t.iterate(ctx) })
	if err != nil {
		return nil, stats, err
	}
	return newIALSModel(p, r.Rows, r.Cols, users, items), stats, nil
}

// ialsTrainer holds one training run's matrices, regularisation and per-worker scratch.
type ialsTrainer struct {
	p                IALSParams
	r, rt            *dataset.Matrix
	users, items     []float32
	userReg, itemReg []float64
	g                []float64 // Gramian of the fixed side of the current sweep
	g32              []float32 // its float32 copy for conjugate gradient
	solvers          []*rowSolver
	rowLoss          []float64
}

func newIALSTrainer(p IALSParams, r *dataset.Matrix, users, items []float32) *ialsTrainer {
	k := p.Factors
	t := &ialsTrainer{p: p, r: r, rt: r.Transpose(), users: users, items: items,
		g: make([]float64, k*k), g32: make([]float32, k*k), rowLoss: make([]float64, r.Rows)}
	t.userReg = regs(r, p)
	t.itemReg = regs(t.rt, p)
	t.solvers = newRowSolvers(p.Workers, k)
	return t
}

// regs returns each row's λ for the matrix m whose columns are the other side.
func regs(m *dataset.Matrix, p IALSParams) []float64 {
	out := make([]float64, m.Rows)
	for i := range out {
		_, vals := m.Row(i)
		out[i] = rowReg(p.Reg, p.RegExponent, p.Alpha, m.Cols, rowSum(vals))
	}
	return out
}

// iterate runs one item sweep and one user sweep and returns the objective.
func (t *ialsTrainer) iterate(ctx context.Context) (float64, error) {
	if err := t.sweep(ctx, "item", t.rt, t.users, t.items, t.itemReg); err != nil {
		return 0, err
	}
	if err := t.sweep(ctx, "user", t.r, t.items, t.users, t.userReg); err != nil {
		return 0, err
	}
	// t.g is now itemsᵀ·items of the final items, which the objective needs.
	return objective(ctx, t.r, t.p.Factors, t.users, t.items, t.g, t.userReg, t.itemReg, t.p.Alpha, t.solvers, t.rowLoss)
}

// sweep solves every row of m (its factors in dst; side names them in errors) against the fixed
// factors.
func (t *ialsTrainer) sweep(ctx context.Context, side string, m *dataset.Matrix, fixed, dst []float32, reg []float64) error {
	k, p := t.p.Factors, t.p
	kernel.Gram(fixed, k, t.g)
	cg := p.Solver == SolverCG
	if cg {
		for i, v := range t.g {
			t.g32[i] = float32(v)
		}
	}
	return solveRows(ctx, side, m, dst, k, t.solvers, func(s *rowSolver, row int, idx []int32, cnt, x []float32) bool {
		if cg {
			s.implicitCG(t.g32, fixed, idx, cnt, float32(p.Alpha), float32(reg[row]), p.CGSteps, x)
			return true
		}
		return s.implicitExact(t.g, fixed, idx, cnt, p.Alpha, reg[row], x)
	})
}

// objective evaluates the iALS objective with the Gramian trick: Σ_u x_uᵀ·(YᵀY)·x_u covers every
// pair as an unobserved one, and each observed pair adds c·(1 − s)² − s² (s = x_uᵀy_i). Rows are
// evaluated in parallel into rowLoss and summed in order, so the value is reproducible.
func objective(ctx context.Context, r *dataset.Matrix, k int, users, items []float32, g, userReg, itemReg []float64,
	alpha float64, solvers []*rowSolver, rowLoss []float64) (float64, error) {
	total, err := sumRows(ctx, len(solvers), rowLoss[:r.Rows], func(w, u int) float64 {
		s := solvers[w]
		x := users[u*k : u*k+k]
		for j, v := range x {
			s.x64[j] = float64(v)
		}
		blasImpl.Dgemv(blas.NoTrans, k, k, 1, g, k, s.x64, 1, 0, s.gx, 1)
		xx := kernel.Dot64(s.x64, s.x64)
		l := kernel.Dot64(s.x64, s.gx) + userReg[u]*xx
		idx, cnt := r.Row(u)
		for n, i := range idx {
			sc := blasImpl.Dsdot(k, x, 1, items[int(i)*k:int(i)*k+k], 1)
			c := 1 + alpha*float64(cnt[n])
			l += c*(1-sc)*(1-sc) - sc*sc
		}
		return l
	})
	if err != nil {
		return 0, err
	}
	for i, lambda := range itemReg {
		y := items[i*k : i*k+k]
		total += lambda * blasImpl.Dsdot(k, y, 1, y, 1)
	}
	return total, nil
}

// Loss returns the training objective of the model's factors on the count matrix r (which must
// have the model's dimensions), as reported per iteration in TrainStats.
func (m *IALSModel) Loss(ctx context.Context, r *dataset.Matrix) (float64, error) {
	if err := m.checkLossMatrix(r, true); err != nil {
		return 0, err
	}
	return objective(ctx, r, m.k, m.users, m.items, m.gram, regs(r, m.params), regs(r.Transpose(), m.params),
		m.params.Alpha, newRowSolvers(m.params.Workers, m.k), make([]float64, r.Rows))
}

// Params returns the parameters the model was trained with.
func (m *IALSModel) Params() IALSParams { return m.params }

// FoldIn computes the user vector for a history of dense item IDs (repeats count as repeated
// interactions; items outside the catalog are ignored) with the training user solve against the
// fixed item factors, always exact. The vector is appended to dst[:0]; ok is false when the
// history has no catalog item.
func (m *IALSModel) FoldIn(history []int32, dst []float32) (vec []float32, ok bool) {
	return m.foldInto(candidates.Query{History: history}, dst)
}

func (m *IALSModel) foldIn(s *foldScratch, history []int32) bool {
	s.known = s.known[:0]
	for _, it := range history {
		if it >= 0 && int(it) < m.numItems {
			s.known = append(s.known, it)
		}
	}
	if len(s.known) == 0 {
		return false
	}
	slices.Sort(s.known)
	s.idx, s.cnt = s.idx[:0], s.cnt[:0]
	for i, it := range s.known {
		if i > 0 && it == s.known[i-1] {
			s.cnt[len(s.cnt)-1]++
			continue
		}
		s.idx = append(s.idx, it)
		s.cnt = append(s.cnt, 1)
	}
	p := m.params
	lambda := rowReg(p.Reg, p.RegExponent, p.Alpha, m.numItems, rowSum(s.cnt))
	return s.solver.implicitExact(m.gram, m.items, s.idx, s.cnt, p.Alpha, lambda, s.user)
}
