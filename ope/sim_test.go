package ope

import (
	"math"
	"math/rand/v2"
)

// simWorld is a synthetic contextual bandit with positions whose truth is known exactly: a
// finite set of contexts with known probabilities, a known expected reward
// q(c, a, k) = sigmoid(θ_a·x_c + b_a − 1)·β_k (β the position bias), a logging policy with known
// propensities, and an evaluation policy. Positions are drawn uniformly per row.
type simWorld struct {
	actions, positions int
	x                  [][]float64   // context features
	pc                 []float64     // context probabilities
	q                  [][][]float64 // [c][k][a] expected reward
	logging, target    [][][]float64 // [c][k][a] policies
}

type simConfig struct {
	actions, positions, dim, contexts int
	// explore is the logging policy's uniform share, which bounds the propensities below by
	// explore/actions.
	explore float64
	// greed is the evaluation policy's softmax inverse temperature on the true scores.
	greed float64
}

var defaultSim = simConfig{actions: 6, positions: 3, dim: 3, contexts: 40, explore: 0.3, greed: 3}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func softmax(s []float64, beta float64) []float64 {
	out := make([]float64, len(s))
	m := math.Inf(-1)
	for _, v := range s {
		m = max(m, beta*v)
	}
	sum := 0.0
	for a, v := range s {
		out[a] = math.Exp(beta*v - m)
		sum += out[a]
	}
	for a := range out {
		out[a] /= sum
	}
	return out
}

// newSimWorld draws a world from seed.
func newSimWorld(cfg simConfig, seed uint64) *simWorld {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	A, K, D, C := cfg.actions, cfg.positions, cfg.dim, cfg.contexts
	w := &simWorld{actions: A, positions: K}
	theta := make([][]float64, A)
	bias := make([]float64, A)
	for a := range A {
		theta[a] = make([]float64, D)
		for j := range D {
			theta[a][j] = rng.NormFloat64()
		}
		bias[a] = 0.5 * rng.NormFloat64()
	}
	posBias := make([]float64, K)
	for k := range K {
		posBias[k] = 1 / (1 + 0.5*float64(k))
	}
	sum := 0.0
	for range C {
		x := make([]float64, D)
		for j := range D {
			x[j] = rng.NormFloat64()
		}
		w.x = append(w.x, x)
		p := 0.5 + rng.Float64()
		w.pc = append(w.pc, p)
		sum += p
		score := make([]float64, A)
		noise := make([]float64, A)
		for a := range A {
			score[a] = bias[a]
			for j := range D {
				score[a] += theta[a][j] * x[j]
			}
			noise[a] = rng.NormFloat64()
		}
		qc, lc, tc := make([][]float64, K), make([][]float64, K), make([][]float64, K)
		for k := range K {
			qc[k] = make([]float64, A)
			for a := range A {
				qc[k][a] = sigmoid(score[a]-1) * posBias[k]
			}
			// The logging policy follows scores unrelated to the reward (a different position
			// gets a different temperature), mixed with uniform exploration.
			lc[k] = softmax(noise, 1+0.5*float64(k))
			for a := range A {
				lc[k][a] = (1-cfg.explore)*lc[k][a] + cfg.explore/float64(A)
			}
			tc[k] = softmax(score, cfg.greed)
		}
		w.q = append(w.q, qc)
		w.logging = append(w.logging, lc)
		w.target = append(w.target, tc)
	}
	for c := range w.pc {
		w.pc[c] /= sum
	}
	return w
}

// value is the exact value of policy pol ([c][k][a]): Σ_c p_c Σ_k (1/K) Σ_a pol q.
func (w *simWorld) value(pol [][][]float64) float64 {
	v := 0.0
	for c, p := range w.pc {
		for k := range w.positions {
			for a := range w.actions {
				v += p / float64(w.positions) * pol[c][k][a] * w.q[c][k][a]
			}
		}
	}
	return v
}

// sample draws a log of n rows from the logging policy, Bernoulli rewards, and the context index
// of each row.
func (w *simWorld) sample(n int, seed uint64) (*Log, []int) {
	rng := rand.New(rand.NewPCG(seed, 0x106))
	l := &Log{Actions: w.actions, Positions: w.positions, Rows: make([]Row, n)}
	ctxOf := make([]int, n)
	for i := range n {
		c := draw(rng, w.pc)
		k := rng.IntN(w.positions)
		a := draw(rng, w.logging[c][k])
		r := 0.0
		if rng.Float64() < w.q[c][k][a] {
			r = 1
		}
		l.Rows[i] = Row{Context: w.x[c], Action: a, Position: k, Reward: r, Propensity: w.logging[c][k][a]}
		ctxOf[i] = c
	}
	return l, ctxOf
}

func draw(rng *rand.Rand, p []float64) int {
	u := rng.Float64()
	for i, v := range p {
		if u < v {
			return i
		}
		u -= v
	}
	return len(p) - 1
}

// rowPolicy is a policy given per context and position, looked up through each row's context
// index: the row index carries what the Row does not.
type rowPolicy struct {
	probs [][][]float64 // [c][k][a]
	ctxOf []int
}

func (p rowPolicy) Prob(i int, r *Row, a int) float64 { return p.probs[p.ctxOf[i]][r.Position][a] }
func (p rowPolicy) Dist(i int, r *Row, dst []float64) { copy(dst, p.probs[p.ctxOf[i]][r.Position]) }
