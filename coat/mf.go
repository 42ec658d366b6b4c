package coat

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"

	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/params"
)

// Config is the factorisation's hyperparameters.
type Config struct {
	Factors    int     `json:"factors"`
	Lambda     float64 `json:"lambda"`
	Iterations int     `json:"iterations"`
	Seed       uint64  `json:"seed"`
}

// Validate names the first bad field as a params.FieldError.
func (c Config) Validate() error {
	return params.First(
		params.AtLeast("factors", c.Factors, 1),
		params.Positive("lambda", c.Lambda),
		params.AtLeast("iterations", c.Iterations, 1),
	)
}

// Model predicts r̂(u, i) = μ + b_u + c_i + p_u·q_i, clipped to [1, 5].
type Model struct {
	Mean               float64
	UserBias, ItemBias []float64
	P, Q               [][]float64 // users × k, items × k
}

// Predict returns the clipped prediction of user u's rating of item i.
func (m *Model) Predict(u, i int) float64 {
	r := m.Mean + m.UserBias[u] + m.ItemBias[i]
	for f, p := range m.P[u] {
		r += p * m.Q[i][f]
	}
	return min(5, max(1, r))
}

// Train fits the model by weighted alternating least squares on the ratings' Weight: each user's
// [p_u; b_u] solves (Σ w z zᵀ + λ I) x = Σ w (r − μ − c_i) z with z = [q_i; 1] over the user's
// ratings, and each item's [q_i; c_i] the same with the roles swapped. μ is the weighted mean
// rating. Item factors start at N(0, 0.1²) from the seed; biases at 0.
func Train(train []Rating, users, items int, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, errors.New("no training ratings")
	}
	var sw, swr float64
	byUser := make([][]int, users)
	byItem := make([][]int, items)
	for j, r := range train {
		if r.User < 0 || r.User >= users || r.Item < 0 || r.Item >= items {
			return nil, fmt.Errorf("rating %d: user %d or item %d out of range %d × %d", j, r.User, r.Item, users, items)
		}
		if !(r.Weight > 0) || math.IsInf(r.Weight, 0) {
			return nil, fmt.Errorf("rating %d: weight %g is not positive and finite", j, r.Weight)
		}
		sw += r.Weight
		swr += r.Weight * r.Value
		byUser[r.User] = append(byUser[r.User], j)
		byItem[r.Item] = append(byItem[r.Item], j)
	}
	k := cfg.Factors
	m := &Model{Mean: swr / sw, UserBias: make([]float64, users), ItemBias: make([]float64, items),
		P: matrix(users, k), Q: matrix(items, k)}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xC0A7))
	for _, q := range m.Q {
		for f := range q {
			q[f] = 0.1 * rng.NormFloat64()
		}
	}
	s := newSolver(k + 1)
	for range cfg.Iterations {
		for u, idx := range byUser {
			s.solve(idx, train, cfg.Lambda, m.P[u], &m.UserBias[u], func(r Rating) ([]float64, float64) {
				return m.Q[r.Item], r.Value - m.Mean - m.ItemBias[r.Item]
			})
		}
		for i, idx := range byItem {
			s.solve(idx, train, cfg.Lambda, m.Q[i], &m.ItemBias[i], func(r Rating) ([]float64, float64) {
				return m.P[r.User], r.Value - m.Mean - m.UserBias[r.User]
			})
		}
	}
	return m, nil
}

// solver holds the buffers of one (k+1)-dimensional weighted ridge regression: the normal
// equations (lower triangle, row-major) and the right-hand side, solved in place by the shared
// Cholesky kernel.
type solver struct {
	n    int
	a, b []float64
	z    []float64
}

func newSolver(n int) *solver {
	return &solver{n: n, a: make([]float64, n*n), b: make([]float64, n), z: make([]float64, n)}
}

// solve sets vec and bias to the ridge solution over the ratings idx, where other gives each
// rating's fixed factor vector and target; with no ratings both are zero (the prior).
func (s *solver) solve(idx []int, train []Rating, lambda float64, vec []float64, bias *float64, other func(Rating) ([]float64, float64)) {
	if len(idx) == 0 {
		clear(vec)
		*bias = 0
		return
	}
	n := s.n
	clear(s.a)
	clear(s.b)
	for _, j := range idx {
		r := train[j]
		f, t := other(r)
		copy(s.z, f)
		s.z[n-1] = 1
		w := r.Weight
		for a := range n {
			wa := w * s.z[a]
			floats.AddScaled(s.a[a*n:a*n+a+1], wa, s.z[:a+1]) // row a of the lower triangle
			s.b[a] += wa * t
		}
	}
	for i := range n {
		s.a[i*n+i] += lambda
	}
	if !kernel.Cholesky(s.a, n) { // cannot happen with λ > 0; keep the old values
		return
	}
	kernel.CholSolve(s.a, n, s.b)
	copy(vec, s.b[:n-1])
	*bias = s.b[n-1]
}

func matrix(rows, cols int) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
	}
	return m
}
