package coat

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

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
	switch {
	case c.Factors < 1:
		return params.Errorf("factors", "must be at least 1, got %d", c.Factors)
	case !(c.Lambda > 0) || math.IsInf(c.Lambda, 0):
		return params.Errorf("lambda", "must be positive and finite, got %g", c.Lambda)
	case c.Iterations < 1:
		return params.Errorf("iterations", "must be at least 1, got %d", c.Iterations)
	}
	return nil
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

// solver holds the buffers of one (k+1)-dimensional weighted ridge regression. The normal
// equations are accumulated in the SymDense's backing slice (upper triangle) rather than through
// At/SetSym, which dominated training time.
type solver struct {
	n    int
	a    *mat.SymDense
	ad   []float64 // a's backing data, row-major n × n
	b, x *mat.VecDense
	bd   []float64 // b's backing data
	z    []float64
	chol mat.Cholesky
}

func newSolver(n int) *solver {
	ad, bd := make([]float64, n*n), make([]float64, n)
	return &solver{n: n, a: mat.NewSymDense(n, ad), ad: ad, b: mat.NewVecDense(n, bd), bd: bd, x: mat.NewVecDense(n, nil), z: make([]float64, n)}
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
	clear(s.ad)
	clear(s.bd)
	for _, j := range idx {
		r := train[j]
		f, t := other(r)
		copy(s.z, f)
		s.z[n-1] = 1
		w := r.Weight
		for a := range n {
			wa := w * s.z[a]
			floats.AddScaled(s.ad[a*n+a:(a+1)*n], wa, s.z[a:]) // assembly axpy
			s.bd[a] += wa * t
		}
	}
	for i := range n {
		s.ad[i*n+i] += lambda
	}
	if !s.chol.Factorize(s.a) { // cannot happen with λ > 0; keep the old values
		return
	}
	if err := s.chol.SolveVecTo(s.x, s.b); err != nil {
		return
	}
	for i := range n - 1 {
		vec[i] = s.x.AtVec(i)
	}
	*bias = s.x.AtVec(n - 1)
}

func matrix(rows, cols int) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
	}
	return m
}
