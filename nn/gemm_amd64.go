//go:build !purego

package nn

import "github.com/cascade-rec/cascade/internal/kernel"

// haveKernel reports whether the AVX2/FMA kernels (kernel.Kern6x16 and expSub8) can run.
var haveKernel = kernel.HaveAVX2FMA

// expSub8 replaces x[i] by e^(x[i]−sub) for the first len(x)&^7 elements and returns their sum.
//
//go:noescape
func expSub8(x []float32, sub float32) float32
