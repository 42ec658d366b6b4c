//go:build !purego

package nn

import "golang.org/x/sys/cpu"

// haveKernel reports whether the AVX2/FMA micro-kernel can run. gonum's assembly is SSE2 only;
// the kernel does eight 8-wide fused multiply-adds per step instead of 4-wide multiply + add.
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func kern6x16(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool)

// expSub8 replaces x[i] by e^(x[i]−sub) for the first len(x)&^7 elements and returns their sum.
//
//go:noescape
func expSub8(x []float32, sub float32) float32
