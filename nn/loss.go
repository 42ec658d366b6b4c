package nn

import "math"

// SoftmaxCrossEntropy computes, for each of the rows of logits (rows×cols), the cross-entropy of
// the softmax against the target column target[i]; entries set to -Inf are excluded from the
// softmax (masked). It returns the summed loss and writes the gradient of scale·loss to dlogits
// (which may alias logits).
func SoftmaxCrossEntropy(logits []float32, rows, cols int, target []int32, scale float32, dlogits []float32) float64 {
	var total float64
	for i := 0; i < rows; i++ {
		z, g := logits[i*cols:(i+1)*cols], dlogits[i*cols:(i+1)*cols]
		m := float32(math.Inf(-1))
		for _, v := range z {
			m = max(m, v)
		}
		t := target[i]
		zt := z[t]
		copy(g, z) // no-op when g aliases z
		s := expSub(g, m)
		total += float64(m) + math.Log(s) - float64(zt)
		w := float32(1/s) * scale
		for j := range g {
			g[j] *= w
		}
		g[t] -= scale
	}
	return total
}
