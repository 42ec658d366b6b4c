package coat

// WithIPS returns a copy of ratings weighted by the inverse of their propensity, each propensity
// first raised to at least minProp (0: none), which caps the weights at 1/minProp: a few tiny
// propensities otherwise dominate the fit. With normalise the weights are scaled to average 1, so
// that λ means the same as for unweighted training. Ratings without a propensity keep weight 1.
func WithIPS(ratings []Rating, normalise bool, minProp float64) []Rating {
	out := make([]Rating, len(ratings))
	var sum float64
	for j, r := range ratings {
		r.Weight = 1
		if r.Propensity > 0 {
			r.Weight = 1 / max(r.Propensity, minProp)
		}
		sum += r.Weight
		out[j] = r
	}
	if normalise && sum > 0 {
		scale := float64(len(out)) / sum
		for j := range out {
			out[j].Weight *= scale
		}
	}
	return out
}

// Unweighted returns a copy of ratings with every weight 1.
func Unweighted(ratings []Rating) []Rating {
	out := make([]Rating, len(ratings))
	for j, r := range ratings {
		r.Weight = 1
		out[j] = r
	}
	return out
}
