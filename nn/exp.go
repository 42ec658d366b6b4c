package nn

import "math"

// expf returns e^x in float32 precision (relative error below 2e-7 on the range that matters,
// −87 … 88; 0 below it, +Inf above). It is several times cheaper than math.Exp, which matters
// because attention and the sampled softmax take millions of exponentials per batch.
func expf(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	if x > 88.3762626647949 {
		return float32(math.Inf(1))
	}
	if x < -87.3365447505531 || x != x {
		if x != x {
			return x
		}
		return 0
	}
	// x = n·ln2 + r with |r| ≤ ln2/2; e^r by a degree-6 polynomial (Cephes expf).
	fx := x*log2e + 0.5
	n := float32(int32(fx))
	if n > fx {
		n--
	}
	r := x - n*ln2hi - n*ln2lo
	r2 := r * r
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r2 + r + 1
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// expSub replaces x[i] by e^(x[i]−sub) and returns the sum, in float64 for the tail.
func expSub(x []float32, sub float32) float64 {
	var s float64
	n := 0
	if haveKernel && len(x) >= 8 {
		n = len(x) &^ 7
		s = float64(expSub8(x[:n], sub))
	}
	for i := n; i < len(x); i++ {
		e := expf(x[i] - sub)
		x[i] = e
		s += float64(e)
	}
	return s
}
