package als

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/progress"
)

// ALSModel is a trained explicit-ALS model: Predict(x_u, i) = x_uᵀy_i estimates u's rating of i.
// It is a candidates.Source (highest predicted ratings) and a candidates.Scorer (the predicted
// rating as a feature), and is safe for concurrent use. Recommend and Score fold in the history
// with its ratings (q.HistoryValues), as FoldIn does.
type ALSModel struct {
	factorModel
	params ALSParams
}

var (
	_ candidates.Source = (*ALSModel)(nil)
	_ candidates.Scorer = (*ALSModel)(nil)
)

func newALSModel(p ALSParams, numUsers, numItems int, users, items []float32) *ALSModel {
	m := &ALSModel{params: p}
	m.init(alsFormat, m.params.fields(), p.Factors, numUsers, numItems, users, items, func(s *foldScratch, q candidates.Query) bool {
		return m.foldIn(s, q.History, q.HistoryValues)
	})
	return m
}

// TrainALS trains explicit ALS on the rated events (those without a value are ignored); a pair
// rated more than once keeps its latest rating. Events with a user ≥ numUsers or an item ≥
// numItems are ignored.
func TrainALS(ctx context.Context, events []dataset.Event, numUsers, numItems int, p ALSParams, opt progress.Options) (*ALSModel, TrainStats, error) {
	if err := p.Validate(); err != nil {
		return nil, TrainStats{}, err
	}
	if err := checkDims(KindALS, numUsers, numItems); err != nil {
		return nil, TrainStats{}, err
	}
	rated := make([]dataset.Event, 0, len(events))
	for _, e := range events {
		if e.HasValue() {
			rated = append(rated, e)
		}
	}
	if len(rated) == 0 {
		return nil, TrainStats{}, fmt.Errorf("als: none of the %d events has a rating", len(events))
	}
	return TrainALSMatrix(ctx, dataset.UserItemMatrix(rated, numUsers, numItems, dataset.LastValue), p, opt)
}

// TrainALSMatrix trains explicit ALS on a user×item matrix of ratings (stored entries are the
// rated pairs). Each iteration solves every item against the users, then every user against the
// items, so the returned user factors are what FoldIn computes from each user's training row.
func TrainALSMatrix(ctx context.Context, r *dataset.Matrix, p ALSParams, opt progress.Options) (*ALSModel, TrainStats, error) {
	if err := p.Validate(); err != nil {
		return nil, TrainStats{}, err
	}
	if err := checkMatrix(r, false); err != nil {
		return nil, TrainStats{}, fmt.Errorf("als: %w", err)
	}
	k := p.Factors
	users, items := initialFactors(p.Seed, r.Rows, r.Cols, k)
	rt := r.Transpose()
	solvers := newRowSolvers(p.Workers, k)
	rowLoss := make([]float64, r.Rows)
	stats, err := runIterations(ctx, KindALS, p.Iterations, opt, func() (float64, error) {
		if err := explicitSweep(ctx, "item", rt, users, items, k, p.Reg, solvers); err != nil {
			return 0, err
		}
		if err := explicitSweep(ctx, "user", r, items, users, k, p.Reg, solvers); err != nil {
			return 0, err
		}
		return explicitObjective(ctx, r, rt, k, users, items, p.Reg, len(solvers), rowLoss)
	})
	if err != nil {
		return nil, stats, err
	}
	return newALSModel(p, r.Rows, r.Cols, users, items), stats, nil
}

// explicitSweep solves every row of m (its factors in dst; side names them in errors) against
// fixed with λ·n_row.
func explicitSweep(ctx context.Context, side string, m *dataset.Matrix, fixed, dst []float32, k int, reg float64, solvers []*rowSolver) error {
	return solveRows(ctx, side, m, dst, k, solvers, func(s *rowSolver, _ int, idx []int32, vals, x []float32) bool {
		return s.explicitExact(fixed, idx, vals, reg*float64(len(idx)), x)
	})
}

// explicitObjective is Σ (r − x_uᵀy_i)² over rated pairs + λ·(Σ_u n_u‖x_u‖² + Σ_i n_i‖y_i‖²),
// evaluated per row in parallel and summed in order.
func explicitObjective(ctx context.Context, r, rt *dataset.Matrix, k int, users, items []float32, reg float64, workers int, rowLoss []float64) (float64, error) {
	total, err := sumRows(ctx, workers, rowLoss[:r.Rows], func(_, u int) float64 {
		x := users[u*k : u*k+k]
		idx, vals := r.Row(u)
		l := reg * float64(len(idx)) * blasImpl.Dsdot(k, x, 1, x, 1)
		for n, i := range idx {
			e := float64(vals[n]) - blasImpl.Dsdot(k, x, 1, items[int(i)*k:int(i)*k+k], 1)
			l += e * e
		}
		return l
	})
	if err != nil {
		return 0, err
	}
	for i := range rt.Rows {
		y := items[i*k : i*k+k]
		total += reg * float64(rt.Indptr[i+1]-rt.Indptr[i]) * blasImpl.Dsdot(k, y, 1, y, 1)
	}
	return total, nil
}

// Loss returns the training objective of the model's factors on the rating matrix r (which must
// have the model's dimensions), as reported per iteration in TrainStats.
func (m *ALSModel) Loss(ctx context.Context, r *dataset.Matrix) (float64, error) {
	if err := m.checkLossMatrix(r, false); err != nil {
		return 0, err
	}
	return explicitObjective(ctx, r, r.Transpose(), m.k, m.users, m.items, m.params.Reg, kernel.Workers(m.params.Workers), make([]float64, r.Rows))
}

// Params returns the parameters the model was trained with.
func (m *ALSModel) Params() ALSParams { return m.params }

// Predict returns the predicted rating x_uᵀy_i of item i for the user vector x_u (from FoldIn or
// UserFactors), or NaN if i is outside the catalog or x_u has the wrong length.
func (m *ALSModel) Predict(user []float32, i int32) float32 {
	if len(user) != m.k || i < 0 || int(i) >= m.numItems {
		return float32(math.NaN())
	}
	return m.score(user, i)
}

// FoldIn computes the user vector from rated items (items[j] rated values[j]) with the training
// user solve against the fixed item factors. Ratings that are NaN and items outside the catalog
// are ignored; an item rated more than once keeps its last rating. The vector is appended to
// dst[:0]; ok is false when no catalog item has a rating.
func (m *ALSModel) FoldIn(items []int32, values []float32, dst []float32) (vec []float32, ok bool) {
	return m.foldInto(candidates.Query{History: items, HistoryValues: values}, dst)
}

func (m *ALSModel) foldIn(s *foldScratch, items []int32, values []float32) bool {
	s.keys = s.keys[:0]
	for j, it := range items[:min(len(items), len(values))] {
		if it >= 0 && int(it) < m.numItems && !math.IsNaN(float64(values[j])) && !math.IsInf(float64(values[j]), 0) {
			s.keys = append(s.keys, int64(it)<<32|int64(j))
		}
	}
	if len(s.keys) == 0 {
		return false
	}
	slices.Sort(s.keys)
	s.idx, s.cnt = s.idx[:0], s.cnt[:0]
	for j, key := range s.keys {
		it, v := int32(key>>32), values[int32(key)]
		if j > 0 && key>>32 == s.keys[j-1]>>32 {
			s.cnt[len(s.cnt)-1] = v // later position: the user's current opinion
			continue
		}
		s.idx = append(s.idx, it)
		s.cnt = append(s.cnt, v)
	}
	return s.solver.explicitExact(m.items, s.idx, s.cnt, m.params.Reg*float64(len(s.idx)), s.user)
}
