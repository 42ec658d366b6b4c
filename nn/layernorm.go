package nn

import (
	"math"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// LayerNorm normalises each row to zero mean and unit variance, then applies a learned gain and
// bias: y = (x-μ)/sqrt(σ²+Eps)·g + b.
type LayerNorm struct {
	Dim        int
	Eps        float32
	Gain, Bias *Param
}

// NewLayerNorm returns a layer with gain 1 and bias 0.
func NewLayerNorm(name string, dim int) *LayerNorm {
	l := &LayerNorm{Dim: dim, Eps: 1e-5, Gain: NewParam(name+".g", 1, dim, false), Bias: NewParam(name+".b", 1, dim, false)}
	l.Gain.Fill(1)
	return l
}

// Params returns the layer's parameters.
func (l *LayerNorm) Params() Params { return Params{l.Gain, l.Bias} }

// Replica returns a layer sharing l's weights with its own gradients.
func (l *LayerNorm) Replica() *LayerNorm {
	return &LayerNorm{Dim: l.Dim, Eps: l.Eps, Gain: l.Gain.Replica(), Bias: l.Bias.Replica()}
}

// Forward normalises n rows of x into y and stores each row's mean and reciprocal standard
// deviation in stats[2i], stats[2i+1] for Backward. y may alias x.
func (l *LayerNorm) Forward(x []float32, n int, y, stats []float32) {
	d := l.Dim
	g, b := l.Gain.W[:d], l.Bias.W[:d]
	i := 0
	// Four rows at a time: each row's sums still run left to right (the same bits as one row at
	// a time), but the four independent chains of float64 additions overlap instead of each
	// waiting out the adder's latency, which bounded this loop.
	for ; i+4 <= n; i += 4 {
		x0, x1, x2, x3 := x[i*d:(i+1)*d], x[(i+1)*d:(i+2)*d], x[(i+2)*d:(i+3)*d], x[(i+3)*d:(i+4)*d]
		x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
		var s0, s1, s2, s3 float64
		for j, v := range x0 {
			s0 += float64(v)
			s1 += float64(x1[j])
			s2 += float64(x2[j])
			s3 += float64(x3[j])
		}
		mu0, mu1, mu2, mu3 := s0/float64(d), s1/float64(d), s2/float64(d), s3/float64(d)
		var ss0, ss1, ss2, ss3 float64
		for j, v := range x0 {
			t0, t1, t2, t3 := float64(v)-mu0, float64(x1[j])-mu1, float64(x2[j])-mu2, float64(x3[j])-mu3
			ss0 += t0 * t0
			ss1 += t1 * t1
			ss2 += t2 * t2
			ss3 += t3 * t3
		}
		l.finishRow(x0, i, mu0, ss0, g, b, y, stats)
		l.finishRow(x1, i+1, mu1, ss1, g, b, y, stats)
		l.finishRow(x2, i+2, mu2, ss2, g, b, y, stats)
		l.finishRow(x3, i+3, mu3, ss3, g, b, y, stats)
	}
	for ; i < n; i++ {
		xr := x[i*d : (i+1)*d]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		mu := s / float64(d)
		var ss float64
		for _, v := range xr {
			t := float64(v) - mu
			ss += t * t
		}
		l.finishRow(xr, i, mu, ss, g, b, y, stats)
	}
}

// finishRow stores row i's statistics from its mean mu and sum of squared deviations ss, and
// writes its normalised row to y.
func (l *LayerNorm) finishRow(xr []float32, i int, mu, ss float64, g, b, y, stats []float32) {
	d := len(xr)
	rstd := 1 / math.Sqrt(ss/float64(d)+float64(l.Eps))
	m, r := float32(mu), float32(rstd)
	stats[2*i], stats[2*i+1] = m, r
	kernel.NormRow32(y[i*d:(i+1)*d], xr, g, b, m, r)
}

// Backward accumulates the gain and bias gradients and sets dx from dy, given the forward input
// x and stats. dx may alias dy.
func (l *LayerNorm) Backward(x, dy []float32, n int, stats, dx []float32) {
	kernel.NormBack32(x, dy, l.Gain.W, l.Gain.G, l.Bias.G, dx, stats, n, l.Dim)
}
