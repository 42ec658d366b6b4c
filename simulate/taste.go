package simulate

import (
	"math"
	"sync"

	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/synth"
)

// tasteEstimator backs the estimated_taste diagnostic: it knows the world's items (factors,
// biases, popularity logits, release times) and its choice model, and estimates a user's
// long-term taste p from their history alone, by maximum likelihood of each taken item h_j
// against the released items the user had not taken before it:
//
//	P(h_j) = e_{h_j} / Σ_{i ∉ h_1…h_{j−1}} e_i,  e_i = exp((p·q_i + b_i)/τ + pop_i)
//
// with an L2 prior (λ = tastePrior), by Newton steps. It is what a learner with perfect item
// knowledge could infer about the user, so its reward bounds what better user models can add.
type tasteEstimator struct {
	tr    *synth.Truth
	mu    sync.Mutex
	cache map[tasteKey][]float64 // one estimate per request: a row of candidates shares it
}

type tasteKey struct {
	user, history int
	t             int64
}

const (
	// tastePrior is λ of the L2 prior. A user's ~70 choices leave a 16-factor taste noisy, and
	// the bound is only as good as the estimate: of λ = 0.25, 1, 4, 10, 30 the re-ranker with this
	// column did best at 10 (seed 1, docs/benchmarks.md).
	tastePrior      = 10.0
	tasteIterations = 30
)

func newTasteEstimator(tr *synth.Truth) *tasteEstimator {
	return &tasteEstimator{tr: tr, cache: map[tasteKey][]float64{}}
}

// affinities returns the world's affinity of user u at t after history (world items, oldest
// first) for any item, with the long-term taste replaced by its estimate. The estimate and the
// short-term interest are computed once, for all of a request's candidates.
func (e *tasteEstimator) affinities(u int, t int64, history []int) func(item int) float64 {
	tr := e.tr
	p := e.estimate(u, t, history)
	beta := tr.Config.ShortTermWeight
	recent := history[max(0, len(history)-tr.Config.HistoryLen):]
	if beta == 0 || len(recent) == 0 {
		return func(item int) float64 { return kernel.Dot64x32(p, tr.Items[item].Factors) + tr.Items[item].Bias }
	}
	short := make([]float64, len(p)) // the recent items' mean factors, as synth's short term
	for _, h := range recent {
		for j, f := range tr.Items[h].Factors {
			short[j] += float64(f) / float64(len(recent))
		}
	}
	return func(item int) float64 {
		q := tr.Items[item].Factors
		return (1-beta)*kernel.Dot64x32(p, q) + beta*kernel.Dot64x32(short, q) + tr.Items[item].Bias
	}
}

// estimate returns the user's estimated taste (cached per user, time and history length).
func (e *tasteEstimator) estimate(u int, t int64, history []int) []float64 {
	key := tasteKey{u, len(history), t}
	e.mu.Lock()
	p, ok := e.cache[key]
	e.mu.Unlock()
	if ok {
		return p
	}
	p = e.fit(t, history)
	e.mu.Lock()
	if len(e.cache) >= 1<<14 {
		clear(e.cache)
	}
	e.cache[key] = p
	e.mu.Unlock()
	return p
}

func (e *tasteEstimator) fit(t int64, history []int) []float64 {
	k := e.tr.Config.Factors
	p := make([]float64, k)
	if len(history) == 0 {
		return p
	}
	s := newTasteScratch(len(e.tr.Items), k)
	next := make([]float64, k)
	ll := e.objective(s, p, t, history, true)
	for range tasteIterations {
		if !kernel.Cholesky(s.hess, k) {
			break
		}
		kernel.CholSolve(s.hess, k, s.grad)
		// The Newton step, halved until the penalised likelihood rises.
		improved := false
		for step := 1.0; step > 1e-4; step /= 2 {
			for a := range p {
				next[a] = p[a] + step*s.grad[a]
			}
			if l := e.objective(s, next, t, history, false); l > ll {
				improved = true
				break
			}
		}
		if !improved {
			break
		}
		gain := e.objective(s, next, t, history, true) - ll
		ll += gain
		copy(p, next)
		if gain < 1e-9 {
			break
		}
	}
	return p
}

type tasteScratch struct{ ex, grad, sq, mean, hess, sqq []float64 }

func newTasteScratch(items, k int) *tasteScratch {
	return &tasteScratch{ex: make([]float64, items), grad: make([]float64, k), sq: make([]float64, k),
		mean: make([]float64, k), hess: make([]float64, k*k), sqq: make([]float64, k*k)}
}

// objective returns the penalised log-likelihood of the history at p; with derivatives it also
// leaves its gradient Σ_j (q_{h_j} − mean_j)/τ − λp in s.grad and its negative Hessian
// Σ_j Cov_j/τ² + λI in s.hess (concave: a Newton step ascends).
func (e *tasteEstimator) objective(s *tasteScratch, p []float64, t int64, history []int, derivatives bool) float64 {
	items, k, tau := e.tr.Items, len(p), e.tr.Config.Temperature
	// e_i over the released items, scaled by the largest logit.
	top := math.Inf(-1)
	for i := range items {
		s.ex[i] = (kernel.Dot64x32(p, items[i].Factors)+items[i].Bias)/tau + items[i].PopularityLogit
		if items[i].Release <= t {
			top = max(top, s.ex[i])
		}
	}
	// Σ e_i (and Σ e_i·q_i, Σ e_i·q_i·q_iᵀ) over the items still available; each event takes
	// its item out after its turn.
	var sum float64
	clear(s.sq)
	clear(s.sqq)
	for i := range items {
		if items[i].Release > t {
			s.ex[i] = 0
			continue
		}
		s.ex[i] = math.Exp(s.ex[i] - top)
		sum += s.ex[i]
		if derivatives {
			addMoments(s.sq, s.sqq, s.ex[i], items[i].Factors)
		}
	}
	var ll float64
	if derivatives {
		clear(s.hess)
		for a := range s.grad {
			s.grad[a] = -tastePrior * p[a]
		}
	}
	for _, h := range history {
		if s.ex[h] == 0 || sum <= 0 {
			continue // released after t, or a repeat
		}
		ll += math.Log(s.ex[h] / sum)
		if derivatives {
			for a := range k {
				s.mean[a] = s.sq[a] / sum
			}
			for a, f := range items[h].Factors {
				s.grad[a] += (float64(f) - s.mean[a]) / tau
				for b := range a + 1 {
					s.hess[a*k+b] += (s.sqq[a*k+b]/sum - s.mean[a]*s.mean[b]) / (tau * tau)
				}
			}
			addMoments(s.sq, s.sqq, -s.ex[h], items[h].Factors)
		}
		sum -= s.ex[h]
		s.ex[h] = 0
	}
	var norm float64
	for _, v := range p {
		norm += v * v
	}
	if derivatives {
		for a := range k {
			s.hess[a*k+a] += tastePrior
			for b := range a {
				s.hess[b*k+a] = s.hess[a*k+b]
			}
		}
	}
	return ll - tastePrior*norm/2
}

// addMoments adds w·q to sq and w·q·qᵀ to the lower triangle of sqq.
func addMoments(sq, sqq []float64, w float64, q []float32) {
	k := len(q)
	for a, qa := range q {
		sq[a] += w * float64(qa)
		for b, qb := range q[:a+1] {
			sqq[a*k+b] += w * float64(qa) * float64(qb)
		}
	}
}
