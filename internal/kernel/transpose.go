package kernel

// Transpose32 sets dst[c·ldd + r] = src[r·lds + c] for r < rows, c < cols: it writes the
// transpose of the rows×cols matrix src (row stride lds) to dst (row stride ldd). nn.Gemm packs
// op(B) = Bᵀ with it; attention does that for every sequence and head, where the scalar loop was
// a tenth of the multiplication's time. The assembly moves 8×8 blocks through registers.
func Transpose32(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if rows == 0 || cols == 0 {
		return
	}
	src, dst = src[:(rows-1)*lds+cols], dst[:(cols-1)*ldd+rows]
	rb, cb := 0, 0
	if HaveAVX2FMA {
		rb, cb = rows/8, cols/8
		if rb > 0 && cb > 0 {
			transpose8(&src[0], lds, &dst[0], ldd, rb, cb)
		}
	}
	r8, c8 := 8*rb, 8*cb
	// The columns right of the blocks, then the rows below them.
	for r := 0; r < r8; r++ {
		for c := c8; c < cols; c++ {
			dst[c*ldd+r] = src[r*lds+c]
		}
	}
	for r := r8; r < rows; r++ {
		for c, v := range src[r*lds : r*lds+cols] {
			dst[c*ldd+r] = v
		}
	}
}
