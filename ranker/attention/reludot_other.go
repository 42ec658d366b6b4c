//go:build !amd64 || purego

package attention

const haveAVX2 = false

func reluDotAVX2(z *float32, rows, A int, w *float32, b float32, out *float32) {
	panic("attention: reluDotAVX2 without AVX2")
}
