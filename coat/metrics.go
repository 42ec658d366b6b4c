package coat

import "math"

// Errors are a model's errors over a set of ratings.
type Errors struct {
	MSE float64 `json:"mse"`
	MAE float64 `json:"mae"`
	N   int     `json:"n"`
}

// Evaluate returns the model's MSE and MAE over ratings, each error weighted by the rating's
// Weight and divided by the total weight (with unit weights: the plain means; with inverse
// propensities: the self-normalised IPS estimates).
func Evaluate(m *Model, ratings []Rating) Errors {
	se, ae, sw := errorSums(m, ratings)
	if sw == 0 {
		return Errors{MSE: math.NaN(), MAE: math.NaN()}
	}
	return Errors{MSE: se / sw, MAE: ae / sw, N: len(ratings)}
}

// errorSums returns the weighted sums of squared and absolute errors, and the total weight.
func errorSums(m *Model, ratings []Rating) (se, ae, sw float64) {
	for _, r := range ratings {
		e := m.Predict(r.User, r.Item) - r.Value
		sw += r.Weight
		se += r.Weight * e * e
		ae += r.Weight * math.Abs(e)
	}
	return se, ae, sw
}
