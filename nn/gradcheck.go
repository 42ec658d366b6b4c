package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// CheckOptions configure a finite-difference gradient check.
type CheckOptions struct {
	Eps    float64 // perturbation; default 1e-2 (float32 inputs need a large step)
	RelTol float64 // default 2e-2
	AbsTol float64 // default 1e-3
	// Coords is the number of randomly chosen coordinates to check; 0 checks all of them.
	Coords int
	Seed   uint64
}

func (o *CheckOptions) defaults() {
	if o.Eps == 0 {
		o.Eps = 1e-2
	}
	if o.RelTol == 0 {
		o.RelTol = 2e-2
	}
	if o.AbsTol == 0 {
		o.AbsTol = 1e-3
	}
}

// CheckGradient compares grad, the analytic gradient of loss with respect to x, with central
// differences (loss(x+ε) − loss(x−ε)) / 2ε, perturbing x in place and restoring it. loss should
// accumulate in float64 so that the differences are not swamped by rounding. It returns an error
// naming the worst coordinate when any coordinate is off by more than AbsTol + RelTol·|g|.
func CheckGradient(name string, x, grad []float32, loss func() float64, opt CheckOptions) error {
	opt.defaults()
	idx := make([]int, 0, len(x))
	if opt.Coords <= 0 || opt.Coords >= len(x) {
		for i := range x {
			idx = append(idx, i)
		}
	} else {
		rng := rand.New(rand.NewPCG(opt.Seed, 17))
		for _, i := range rng.Perm(len(x))[:opt.Coords] {
			idx = append(idx, i)
		}
	}
	worst, worstI := 0.0, -1
	var worstA, worstN float64
	for _, i := range idx {
		orig := x[i]
		x[i] = orig + float32(opt.Eps)
		lp := loss()
		x[i] = orig - float32(opt.Eps)
		lm := loss()
		x[i] = orig
		// The float32 perturbation actually applied, not the nominal ε.
		h := float64(orig+float32(opt.Eps)) - float64(orig-float32(opt.Eps))
		if h == 0 {
			continue // too large to perturb in float32 (a masked -1e30 logit, say)
		}
		num := (lp - lm) / h
		ana := float64(grad[i])
		err := math.Abs(num - ana)
		ratio := err / (opt.AbsTol + opt.RelTol*math.Max(math.Abs(num), math.Abs(ana)))
		if ratio > worst || math.IsNaN(ratio) {
			worst, worstI, worstA, worstN = ratio, i, ana, num
		}
	}
	if worst > 1 || math.IsNaN(worst) {
		return fmt.Errorf("gradient of %s[%d]: analytic %.6g, numeric %.6g (%.1f× tolerance)", name, worstI, worstA, worstN, worst)
	}
	return nil
}

// DenseGrad returns p's gradient as a dense Rows×Cols slice (a copy for sparse parameters, the
// gradient itself for dense ones). For tests and diagnostics.
func (p *Param) DenseGrad() []float32 {
	if p.sp == nil {
		return p.G
	}
	g := make([]float32, len(p.W))
	for k, r := range p.sp.rows {
		copy(g[int(r)*p.Cols:int(r+1)*p.Cols], p.sp.vals[k*p.Cols:(k+1)*p.Cols])
	}
	return g
}

// CheckParams runs CheckGradient on every parameter of ps, whose gradients must hold the
// analytic gradient of loss at the current weights.
func CheckParams(ps Params, loss func() float64, opt CheckOptions) error {
	for _, p := range ps {
		if err := CheckGradient(p.Name, p.W, p.DenseGrad(), loss, opt); err != nil {
			return err
		}
	}
	return nil
}
