package nn

import (
	"math"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// ReLU sets y = max(x, 0); y may alias x.
func ReLU(x, y []float32) {
	for i, v := range x {
		y[i] = max(v, 0)
	}
}

// ReLUBackward sets dx = dy where the forward output y was positive, else 0; dx may alias dy.
func ReLUBackward(y, dy, dx []float32) { kernel.ReLUBack32(y, dy, dx) }

const geluC = 0.7978845608028654 // sqrt(2/π)

// GELU applies the tanh approximation of the Gaussian error linear unit; y must not alias x
// because GELUBackward needs the input.
func GELU(x, y []float32) {
	for i, v := range x {
		u := float64(v)
		y[i] = float32(0.5 * u * (1 + math.Tanh(geluC*(u+0.044715*u*u*u))))
	}
}

// GELUBackward sets dx = dy·GELU'(x) from the forward input x; dx may alias dy.
func GELUBackward(x, dy, dx []float32) {
	for i, v := range x {
		u := float64(v)
		t := math.Tanh(geluC * (u + 0.044715*u*u*u))
		d := 0.5*(1+t) + 0.5*u*(1-t*t)*geluC*(1+3*0.044715*u*u)
		dx[i] = dy[i] * float32(d)
	}
}
