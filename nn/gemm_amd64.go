//go:build !purego

package nn

import "github.com/cascade-rec/cascade/internal/kernel"

// haveKernel reports whether the AVX2/FMA kernels (kernel.Kern6x16 and expSub8) can run.
var haveKernel = kernel.HaveAVX2FMA

// haveWide reports whether Gemm may use kernel.Kern6x32, AVX-512's 32-wide micro-kernel.
var haveWide = kernel.HaveAVX512

// expSub8 replaces x[i] by e^(x[i]−sub) for the first len(x)&^7 elements and returns their sum.
//
//go:noescape
func expSub8(x []float32, sub float32) float32
