package nn

import "github.com/cascade-rec/cascade/internal/kernel"

// expSub replaces x[i] by e^(x[i]−sub) and returns the sum: the AVX2 kernel does blocks of 8
// (summing in float32), kernel.Exp32 the tail (summed in float64).
func expSub(x []float32, sub float32) float64 {
	var s float64
	n := 0
	if haveKernel && len(x) >= 8 {
		n = len(x) &^ 7
		s = float64(expSub8(x[:n], sub))
	}
	for i := n; i < len(x); i++ {
		e := kernel.Exp32(x[i] - sub)
		x[i] = e
		s += float64(e)
	}
	return s
}
