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
	p := &ridgePredictor{dim: 1 + d + l.Positions - 1, beta: make([][]float64, l.Actions)}
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
	gram := make([]float64, D*D)
	rhs := make([]float64, D)
	for a, rows := range byAction {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			continue
		}
		clear(gram)
		clear(rhs)
		for _, i := range rows {
			r := &l.Rows[i]
			p.features(r, phi)
			for j, u := range phi {
				if u == 0 {
					continue
				}
				rhs[j] += u * r.Reward
				row := gram[j*D:]
				for m := j; m < D; m++ {
					row[m] += u * phi[m]
				}
			}
		}
		for j := 1; j < D; j++ {
			gram[j*D+j] += lambda
		}
		var chol mat.Cholesky
		if !chol.Factorize(mat.NewSymDense(D, gram)) { // reads the upper triangle
			return nil, fmt.Errorf("ridge: action %d: normal equations are not positive definite", a)
		}
		beta := mat.NewVecDense(D, nil)
		if err := chol.SolveVecTo(beta, mat.NewVecDense(D, rhs)); err != nil {
			return nil, fmt.Errorf("ridge: action %d: %w", a, err)
		}
		p.beta[a] = beta.RawVector().Data
	}
	return p, nil
}

type ridgePredictor struct {
	dim          int
	beta         [][]float64 // nil for an action without training rows
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

// Predict computes β·[1, x, one-hot position] per action without building the feature vector.
func (p *ridgePredictor) Predict(r *Row, dst []float64) {
	d := len(r.Context)
	for a := range dst {
		q := p.mean
		if b := p.beta[a]; b != nil {
			q = b[0]
			for j, x := range r.Context {
				q += b[1+j] * x
			}
			if r.Position > 0 {
				q += b[d+r.Position]
			}
		}
		dst[a] = min(p.hi, max(p.lo, q))
	}
}
