package attention

import "math"

// expNeg returns e^x for x ≤ 0 in float32 precision (relative error below 2e-7; inputs below −87,
// and NaN, give e^−87 ≈ 0). The softmax over the history takes n·L exponentials per request;
// this version has no unpredictable branch: the exponent is rounded with the 1.5·2²³ trick
// instead of a float-to-int conversion and a floor correction.
func expNeg(x float32) float32 {
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
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	k := int32(math.Float32bits(t)) - int32(math.Float32bits(magic)) // n as an integer, in [−126, 0]
	return y * math.Float32frombits(uint32(k+127)<<23)
}
