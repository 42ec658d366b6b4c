package nn

import (
	"math"
	"math/rand/v2"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// Linear is a dense layer y = x·W + b with W of shape In×Out.
type Linear struct {
	In, Out int
	W, B    *Param
}

// NewLinear returns a layer with Glorot-uniform weights and zero bias; the parameters are named
// name+".w" and name+".b".
func NewLinear(name string, in, out int, rng *rand.Rand) *Linear {
	l := &Linear{In: in, Out: out, W: NewParam(name+".w", in, out, false), B: NewParam(name+".b", 1, out, false)}
	l.W.InitUniform(rng, math.Sqrt(6/float64(in+out)))
	return l
}

// Params returns the layer's parameters.
func (l *Linear) Params() Params { return Params{l.W, l.B} }

// Replica returns a layer sharing l's weights with its own gradients.
func (l *Linear) Replica() *Linear {
	return &Linear{In: l.In, Out: l.Out, W: l.W.Replica(), B: l.B.Replica()}
}

// Forward computes y[n×Out] = x[n×In]·W + b.
func (l *Linear) Forward(x []float32, n int, y []float32) {
	b := l.B.W
	for i := 0; i < n; i++ {
		copy(y[i*l.Out:(i+1)*l.Out], b)
	}
	Gemm(false, false, n, l.Out, l.In, 1, x, l.In, l.W.W, l.Out, 1, y, l.Out)
}

// Backward accumulates dW += xᵀ·dy and db += Σ dy, and sets dx = dy·Wᵀ unless dx is nil.
func (l *Linear) Backward(x, dy []float32, n int, dx []float32) {
	Gemm(true, false, l.In, l.Out, n, 1, x, l.In, dy, l.Out, 1, l.W.G, l.Out)
	kernel.AddRows32(l.B.G, dy, n, l.Out, l.Out)
	if dx != nil {
		Gemm(false, true, n, l.In, l.Out, 1, dy, l.Out, l.W.W, l.Out, 0, dx, l.In)
	}
}
