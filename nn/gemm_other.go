//go:build !amd64 || purego

package nn

const haveKernel = false

func kern6x16(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool) {
	panic("nn: no gemm kernel on this platform")
}

func expSub8(x []float32, sub float32) float32 { panic("nn: no exp kernel on this platform") }
