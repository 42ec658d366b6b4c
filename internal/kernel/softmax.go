package kernel

import "math"

// The element-wise halves of a softmax row and of its backward pass, the scalar loops that were
// left around the exponential in attention (a 50-wide row is too short for the Go compiler's
// loops to be cheap: the builtin max alone was an eighth of two-tower training). Both give the
// same bits with and without the assembly: a maximum is exact, and the backward step does the
// same two multiplications in the same order.

// Max32 returns the largest element of x, or −Inf when x is empty. x must not hold NaN (the
// assembly may then return NaN or skip it).
func Max32(x []float32) float32 {
	if HaveAVX2FMA && len(x) > 0 {
		return max32(&x[0], len(x))
	}
	m := float32(math.Inf(-1))
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

// SoftmaxBack32 sets g[j] = p[j]·(g[j]−s)·scale for j < len(p): the gradient of a softmax's input
// from the gradient g of its output p, where s = p·g (and scale a factor folded into the inputs).
func SoftmaxBack32(p, g []float32, s, scale float32) {
	g = g[:len(p)]
	if HaveAVX2FMA && len(p) > 0 {
		softmaxBack32(&p[0], &g[0], len(p), s, scale)
		return
	}
	for j, pj := range p {
		g[j] = pj * (g[j] - s) * scale
	}
}
