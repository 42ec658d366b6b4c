package kernel

import "math"

// Adam32 applies one Adam step to w with gradient g and moments m and v (all of len(g)):
//
//	m = b1·m + (1−b1)·g,  v = b2·v + (1−b2)·g²,  w = w·decay − lr·m/(√v + eps)
//
// the update of every dense parameter of nn's optimiser. The assembly does the same IEEE
// operations in the same order eight at a time (no fused multiply-add; √ rounded once, as
// float32(math.Sqrt(float64(v))) is), so the bits do not change.
func Adam32(w, g, m, v []float32, b1, b2, eps, lr, decay float32) {
	n := len(g)
	w, m, v = w[:n], m[:n], v[:n]
	i := 0
	if HaveAVX2FMA && n >= 8 {
		i = n &^ 7
		adam8(&w[0], &g[0], &m[0], &v[0], i, [6]float32{b1, 1 - b1, b2, 1 - b2, eps, lr}, decay)
	}
	c1, c2 := 1-b1, 1-b2
	for j := i; j < n; j++ {
		gj := g[j]
		mj := b1*m[j] + c1*gj
		vj := b2*v[j] + c2*gj*gj
		m[j], v[j] = mj, vj
		w[j] = w[j]*decay - lr*mj/(float32(math.Sqrt(float64(vj)))+eps)
	}
}
