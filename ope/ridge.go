package ope

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Ridge is a contextual direct model: one ridge regression per action of the reward on the
// features [1, x, one-hot position (first position dropped)], the intercept unpenalised. An
// action without training rows predicts the mean training reward. Predictions are clamped to the
// range of the training rewards.
type Ridge struct {
	// Lambda is the L2 penalty; 0 means 1.
	Lambda float64
}

// Fit solves (ΦᵀΦ + λ·diag(0, 1, …, 1)) β = Φᵀy per action by Cholesky factorisation.
func (m Ridge) Fit(ctx context.Context, l *Log, train []int) (RewardPredictor, error) {
	lambda := m.Lambda
	if lambda == 0 {
		lambda = 1
	}
	if !(lambda > 0) {
		return nil, fmt.Errorf("ridge: lambda must be positive, got %g", lambda)
	}
	d := l.ContextDim()
	p := &ridgePredictor{dim: 1 + d + l.Positions - 1, beta: make([]*mat.VecDense, l.Actions)}
	byAction := make([][]int, l.Actions)
	sum := 0.0
	for j, i := range train {
		r := &l.Rows[i]
		byAction[r.Action] = append(byAction[r.Action], i)
		sum += r.Reward
		if j == 0 {
			p.lo, p.hi = r.Reward, r.Reward
		}
		p.lo, p.hi = min(p.lo, r.Reward), max(p.hi, r.Reward)
	}
	if len(train) > 0 {
		p.mean = sum / float64(len(train))
	}
	D := p.dim
	phi := make([]float64, D)
	for a, rows := range byAction {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			continue
		}
		gram := mat.NewSymDense(D, nil)
		rhs := mat.NewVecDense(D, nil)
		for _, i := range rows {
			r := &l.Rows[i]
			p.features(r, phi)
			v := mat.NewVecDense(D, phi)
			gram.SymRankOne(gram, 1, v)
			rhs.AddScaledVec(rhs, r.Reward, v)
		}
		for j := 1; j < D; j++ {
			gram.SetSym(j, j, gram.At(j, j)+lambda)
		}
		var chol mat.Cholesky
		if !chol.Factorize(gram) {
			return nil, fmt.Errorf("ridge: action %d: normal equations are not positive definite", a)
		}
		beta := mat.NewVecDense(D, nil)
		if err := chol.SolveVecTo(beta, rhs); err != nil {
			return nil, fmt.Errorf("ridge: action %d: %w", a, err)
		}
		p.beta[a] = beta
	}
	return p, nil
}

type ridgePredictor struct {
	dim          int
	beta         []*mat.VecDense // nil for an action without training rows
	mean, lo, hi float64
}

// features writes [1, x, one-hot position without position 0] into phi.
func (p *ridgePredictor) features(r *Row, phi []float64) {
	clear(phi)
	phi[0] = 1
	copy(phi[1:], r.Context)
	if r.Position > 0 {
		phi[len(r.Context)+r.Position] = 1
	}
}

func (p *ridgePredictor) Predict(r *Row, dst []float64) {
	phi := make([]float64, p.dim)
	p.features(r, phi)
	v := mat.NewVecDense(p.dim, phi)
	for a := range dst {
		q := p.mean
		if p.beta[a] != nil {
			q = mat.Dot(p.beta[a], v)
		}
		dst[a] = min(p.hi, max(p.lo, q))
	}
}
