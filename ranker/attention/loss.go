package attention

import "math"

// bceLoss returns the mean logistic loss of logits against labels (in [0, 1]) over the request's
// candidates and writes the gradient of scale·loss to dlogits.
func bceLoss(logits, labels []float32, scale float32, dlogits []float32) float64 {
	n := len(logits)
	if n == 0 {
		return 0
	}
	var total float64
	inv := 1 / float64(n)
	for i, s := range logits {
		z, y := float64(s), float64(labels[i])
		// softplus(z) − y·z, computed without overflow.
		total += math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - y*z
		dlogits[i] = float32((sigmoid(z) - y) * inv * float64(scale))
	}
	return total * inv
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softmaxLoss returns the listwise softmax cross-entropy of the request, −Σ_i (y_i/Σy)·log
// softmax(logits)_i, and writes the gradient of scale·loss (softmax − y/Σy, scaled) to dlogits.
// A request without a positive label has no listwise signal: loss and gradient are 0.
func softmaxLoss(logits, labels []float32, scale float32, dlogits []float32) float64 {
	var ysum float64
	for _, y := range labels {
		ysum += float64(y)
	}
	if ysum <= 0 {
		clear(dlogits[:len(logits)])
		return 0
	}
	m := math.Inf(-1)
	for _, s := range logits {
		m = math.Max(m, float64(s))
	}
	var z float64
	for _, s := range logits {
		z += math.Exp(float64(s) - m)
	}
	lse := m + math.Log(z)
	var loss float64
	for i, s := range logits {
		t := float64(labels[i]) / ysum
		loss += t * (lse - float64(s))
		dlogits[i] = float32((math.Exp(float64(s)-lse) - t) * float64(scale))
	}
	return loss
}
