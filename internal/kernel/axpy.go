package kernel

// Axpy32 adds alpha·x to y[:len(x)]: the residual connections, bias gradients and pooling of
// the two-tower's query tower, on T×64 activations. gonum's version is SSE; the assembly does the
// same multiply and add (no fused multiply-add) eight at a time, so the bits do not change.
func Axpy32(alpha float32, x, y []float32) {
	y = y[:len(x)]
	if HaveAVX2FMA && len(x) > 0 {
		axpy32(alpha, &x[0], &y[0], len(x))
		return
	}
	for i, v := range x {
		y[i] += alpha * v
	}
}
