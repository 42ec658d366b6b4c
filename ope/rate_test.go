package ope

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRateByHand checks the value and the delta-method standard error on four units.
func TestRateByHand(t *testing.T) {
	units := []Unit{{1, 4}, {0, 2}, {3, 6}, {2, 8}}
	e, err := Rate(context.Background(), units, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// V = 6/20; φ_i = (u_i − V v_i)/mean(v) with mean(v) = 5: −0.04, −0.12, 0.24, −0.08.
	phi := []float64{-0.04, -0.12, 0.24, -0.08}
	ss := 0.0
	for _, p := range phi {
		ss += p * p
	}
	se := math.Sqrt(ss/3) / 2
	if math.Abs(e.Value-0.3) > 1e-12 || math.Abs(e.StdErr-se) > 1e-12 || e.N != 4 {
		t.Fatalf("estimate %+v, want 0.3 ± se %g", e, se)
	}
	if _, err := Rate(context.Background(), []Unit{{2, 1}, {0, 1}}, Options{}); err == nil {
		t.Fatal("more successes than trials accepted")
	}
}

// TestRateCoverage: users with their own click rates (so impressions within a user correlate);
// the interval over users covers the true rate in about 95% of the runs.
func TestRateCoverage(t *testing.T) {
	const runs, users = 300, 200
	covered := 0
	for r := range runs {
		rng := rand.New(rand.NewPCG(uint64(r), 9))
		var units []Unit
		var num, den float64
		for range users {
			p := 0.02 + 0.2*rng.Float64()*rng.Float64()
			n := float64(1 + rng.IntN(30))
			num += p * n
			den += n
			c := 0.0
			for range int(n) {
				if rng.Float64() < p {
					c++
				}
			}
			units = append(units, Unit{c, n})
		}
		// The truth: the expected clicks over the expected impressions, given these users.
		truth := num / den
		e, err := Rate(context.Background(), units, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if e.CI.Lo <= truth && truth <= e.CI.Hi {
			covered++
		}
	}
	if c := float64(covered) / runs; c < 0.91 || c > 0.99 {
		t.Fatalf("coverage %.3f, want about 0.95", c)
	}
}
