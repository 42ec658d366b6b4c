package kernel

// NormRow32 sets y[j] = (x[j]−m)·r·g[j] + b[j] for j < len(x): a layer-norm row from its mean m,
// reciprocal standard deviation r, gain g and bias b. The assembly does the same three roundings
// (no fused multiply-add) eight at a time, so the bits are those of the loop.
func NormRow32(y, x, g, b []float32, m, r float32) {
	n := len(x)
	y, g, b = y[:n], g[:n], b[:n]
	if HaveAVX2FMA && n > 0 {
		normRow32(&y[0], &x[0], &g[0], &b[0], n, m, r)
		return
	}
	for j, v := range x {
		y[j] = (v-m)*r*g[j] + b[j]
	}
}
