// Package vecgen generates the synthetic embedding sets used by the ann
// tests, benchmarks and cmd/annbench, so that all of them measure the same
// distributions.
package vecgen

import (
	"math"
	"math/rand/v2"
)

// Clusters is a mixture of isotropic Gaussians: each sample is a centre
// drawn uniformly from Centres, plus N(0, Sigma²·I) noise, L2-normalised.
type Clusters struct {
	Dim     int
	Sigma   float64
	Centres []float64 // row-major, drawn from N(0, I)
}

// NewClusters draws nc centres of dimension dim from N(0, I).
func NewClusters(nc, dim int, sigma float64, seed uint64) *Clusters {
	rng := rand.New(rand.NewPCG(seed, 1))
	c := &Clusters{Dim: dim, Sigma: sigma, Centres: make([]float64, nc*dim)}
	for i := range c.Centres {
		c.Centres[i] = rng.NormFloat64()
	}
	return c
}

// Sample returns n unit vectors, row-major.
func (c *Clusters) Sample(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	nc := len(c.Centres) / c.Dim
	out := make([]float32, n*c.Dim)
	v := make([]float64, c.Dim)
	for i := range n {
		ctr := c.Centres[rng.IntN(nc)*c.Dim:]
		for j := range v {
			v[j] = ctr[j] + c.Sigma*rng.NormFloat64()
		}
		normalise(out[i*c.Dim:(i+1)*c.Dim], v)
	}
	return out
}

// Uniform returns n vectors drawn uniformly from the unit sphere in dim
// dimensions (normalised Gaussians), row-major. This is the hard case for
// graph indexes: the intrinsic dimension is the full dimension.
func Uniform(n, dim int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]float32, n*dim)
	v := make([]float64, dim)
	for i := range n {
		for j := range v {
			v[j] = rng.NormFloat64()
		}
		normalise(out[i*dim:(i+1)*dim], v)
	}
	return out
}

func normalise(dst []float32, v []float64) {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	inv := 1 / math.Sqrt(ss)
	for j, x := range v {
		dst[j] = float32(x * inv)
	}
}
