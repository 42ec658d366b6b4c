package nn

import (
	"math"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// AdamConfig holds Adam's hyper-parameters; zero fields take the usual defaults
// (LR 1e-3, Beta1 0.9, Beta2 0.999, Eps 1e-8).
type AdamConfig struct {
	LR, Beta1, Beta2, Eps float64
	// WeightDecay is decoupled (AdamW) decay applied to the rows that are updated.
	WeightDecay float64
}

// Adam is the Adam optimiser. Dense parameters are updated in full every step; sparse ones
// lazily: only the rows with a gradient move, and their moments decay only when they do (as in
// TensorFlow's LazyAdam), so a step costs O(rows in the batch) whatever the table size.
type Adam struct {
	cfg    AdamConfig
	params Params
	m, v   [][]float32
	t      int
}

// NewAdam returns an optimiser for ps.
func NewAdam(ps Params, cfg AdamConfig) *Adam {
	if cfg.LR == 0 {
		cfg.LR = 1e-3
	}
	if cfg.Beta1 == 0 {
		cfg.Beta1 = 0.9
	}
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	a := &Adam{cfg: cfg, params: ps, m: make([][]float32, len(ps)), v: make([][]float32, len(ps))}
	for i, p := range ps {
		a.m[i] = make([]float32, len(p.W))
		a.v[i] = make([]float32, len(p.W))
	}
	return a
}

// SetLR changes the learning rate (for schedules).
func (a *Adam) SetLR(lr float64) { a.cfg.LR = lr }

// Steps is the number of steps taken.
func (a *Adam) Steps() int { return a.t }

// Step applies the current gradients; it does not clear them.
func (a *Adam) Step() {
	a.t++
	c := a.cfg
	lr := c.LR * math.Sqrt(1-math.Pow(c.Beta2, float64(a.t))) / (1 - math.Pow(c.Beta1, float64(a.t)))
	for i, p := range a.params {
		if p.sp == nil {
			a.update(p.W, p.G, a.m[i], a.v[i], lr)
			continue
		}
		s := p.sp
		for k, r := range s.rows {
			lo, hi := int(r)*p.Cols, int(r+1)*p.Cols
			a.update(p.W[lo:hi], s.vals[k*p.Cols:(k+1)*p.Cols], a.m[i][lo:hi], a.v[i][lo:hi], lr)
		}
	}
}

func (a *Adam) update(w, g, m, v []float32, lr float64) {
	decay := float32(1 - a.cfg.LR*a.cfg.WeightDecay)
	kernel.Adam32(w, g, m, v, float32(a.cfg.Beta1), float32(a.cfg.Beta2), float32(a.cfg.Eps), float32(lr), decay)
}
