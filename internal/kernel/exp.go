package kernel

import "math"

// The three exponentials below are not interchangeable: they are different approximations that
// round differently, and each model's outputs are pinned to the one it was trained and tested
// with. Exp32 and Exp32Neg share Cephes' polynomial but split x = n·ln2 + r differently (Exp32
// floors x·log₂e + ½, Exp32Neg rounds x·log₂e to nearest even) and combine the polynomial in a
// different order, so on x ≤ 0, the domain both serve (softmaxes subtract the maximum), they
// disagree in the last bits on 637,180 of the float32 inputs in [−87, 0], and on every input
// below −87, where Exp32Neg holds e^−87 while Exp32 goes on to e^−87.34 and then flushes to 0
// (TestExpVariantsDiffer scans them all with CASCADE_EXHAUSTIVE=1).

// Exp32 returns e^x in float32 precision: relative error below 2e-7 on −87 … 88, 0 below
// −87.34, +Inf above 88.38, NaN for NaN. It is several times cheaper than math.Exp, which
// matters because attention and the sampled softmax take millions of exponentials per batch.
func Exp32(x float32) float32 {
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
	y := cephes(r)*r2 + r + 1
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// Exp32Neg returns e^max(x, −87) for x ≤ 0 in float32 precision (relative error below 2e-7; NaN
// also gives e^−87 ≈ 1.6e-38, never 0). A softmax over a history takes n·L exponentials per
// request; this version has no unpredictable branch: the exponent is rounded with the 1.5·2²³
// trick instead of a float-to-int conversion and a floor correction.
func Exp32Neg(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		magic = 12582912 // 1.5·2²³: adding it rounds to an integer held in the low mantissa bits
	)
	if !(x >= -87) {
		x = -87
	}
	t := float32(x*log2e) + magic
	n := t - magic
	r := x - n*ln2hi - n*ln2lo
	// (p·r)·r, not p·(r·r) as in Exp32: the two round differently.
	y := cephes(r)*r*r + r + 1
	k := int32(math.Float32bits(t)) - int32(math.Float32bits(magic)) // n as an integer, in [−126, 0]
	return y * math.Float32frombits(uint32(k+127)<<23)
}

// cephes is the polynomial p of Cephes' expf, e^r ≈ 1 + r + p(r)·r² for |r| ≤ ln2/2, in
// Horner's order.
func cephes(r float32) float32 {
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	return p
}

// Exp64Neg returns e^x for x ≤ 0 in float64 to a relative error below 1e-9 (0 below −700),
// about twice as fast as math.Exp: 2^(x·log₂e) split into an exponent and a polynomial on
// [0, 1).
func Exp64Neg(x float64) float64 {
	if x < -700 {
		return 0
	}
	t := x * math.Log2E
	n := math.Floor(t)
	y := (t - n) * math.Ln2 // in [0, ln 2)
	// Taylor series of e^y to degree 10: the remainder is below 3e-10 on [0, ln 2).
	p := 1 + y*(1+y*(1.0/2+y*(1.0/6+y*(1.0/24+y*(1.0/120+y*(1.0/720+y*(1.0/5040+y*(1.0/40320+y*(1.0/362880+y*(1.0/3628800))))))))))
	return p * math.Float64frombits(uint64(int64(n)+1023)<<52)
}
