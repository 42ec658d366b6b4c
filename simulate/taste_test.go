package simulate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// The estimator recovers a taste from choices drawn by the model it assumes: for a history of 40
// choices, each among the released items not yet taken with P ∝ exp((p·q + b)/τ + pop), its
// estimate's penalised likelihood is at least the true taste's (it is the maximum), and it
// points the way of the true taste.
func TestTasteEstimatorRecoversTaste(t *testing.T) {
	w := tinyWorld(t)
	tr := w.Truth
	r := rand.New(rand.NewPCG(4, 9))
	at := tr.End
	for _, u := range []int{3, 17, 42} {
		p := make([]float64, tr.Config.Factors)
		for j, f := range tr.Users[u].TasteStart {
			p[j] = float64(f)
		}
		var history []int
		taken := map[int]bool{}
		for range 40 {
			var weights []float64
			var ids []int
			for i, it := range tr.Items {
				if it.Release <= at && !taken[i] {
					ids = append(ids, i)
					weights = append(weights, (kernel.Dot64x32(p, it.Factors)+it.Bias)/tr.Config.Temperature+it.PopularityLogit)
				}
			}
			top := math.Inf(-1)
			for _, v := range weights {
				top = max(top, v)
			}
			var sum float64
			for k := range weights {
				weights[k] = math.Exp(weights[k] - top)
				sum += weights[k]
			}
			x := r.Float64() * sum
			k := 0
			for ; k < len(weights)-1 && x > weights[k]; k++ {
				x -= weights[k]
			}
			history = append(history, ids[k])
			taken[ids[k]] = true
		}
		e := newTasteEstimator(tr)
		est := e.estimate(u, at, history)
		s := newTasteScratch(len(tr.Items), len(p))
		atEst, atTrue := e.objective(s, est, at, history, false), e.objective(s, p, at, history, false)
		c := cosine(est, p)
		t.Logf("user %d: penalised log-likelihood %.2f at the estimate, %.2f at the true taste; cosine %.3f", u, atEst, atTrue, c)
		if atEst < atTrue-1e-9 {
			t.Errorf("user %d: the estimate's penalised likelihood %.4f is below the true taste's %.4f", u, atEst, atTrue)
		}
		if c < 0.7 {
			t.Errorf("user %d: the estimate's cosine to the true taste is %.3f", u, c)
		}
	}
}

func cosine(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}
