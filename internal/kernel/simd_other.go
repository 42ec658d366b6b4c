//go:build !amd64 || purego

package kernel

// HaveAVX2FMA is false: the portable loops run instead of the assembly kernels.
var HaveAVX2FMA, HaveAVX512 = false, false

const noKernel = "kernel: no assembly kernel on this platform"

func Kern6x16(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool) {
	panic(noKernel)
}
func Kern6x32(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool) {
	panic(noKernel)
}
func dotRows32(n, kv int, a *float32, lda int, x, y *float32)             { panic(noKernel) }
func axpyRows32(n, kv int, a *float32, lda int, x, y *float32)            { panic(noKernel) }
func dots4Rows64(n, kv int, a *float64, lda int, x, y *float64)           { panic(noKernel) }
func scaleRows32(n, kv int, a *float32, lda int, x, y *float32)           { panic(noKernel) }
func max32(x *float32, n int) float32                                     { panic(noKernel) }
func softmaxBack32(probs, grad *float32, n int, dot, scale float32)       { panic(noKernel) }
func transpose8(src *float32, lds int, dst *float32, ldd int, rb, cb int) { panic(noKernel) }
func normRow32(y, x, gain, bias *float32, n int, m, r float32)            { panic(noKernel) }
func adam8(w, g, m, v *float32, n int, c [6]float32, decay float32)       { panic(noKernel) }
func reluBack8(y, dy, dx *float32, n int)                                 { panic(noKernel) }
func addRows8(y, a *float32, rows, cols, lda int)                         { panic(noKernel) }
func normBackProducts(x, dy, gain, gg, gb, dh, p *float32, n int, m, r float32) {
	panic(noKernel)
}
func normBackDx(x, dy, gain, dx *float32, n int, m, r, s1, s2 float32) { panic(noKernel) }
func axpy32(alpha float32, x, y *float32, n int)                       { panic(noKernel) }
