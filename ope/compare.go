package ope

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Difference is the normal-approximation interval, at a's level, of the difference a − b of two
// estimates from independent samples (two different logs): (a − b) ± z·√(se_a² + se_b²). An
// interval that excludes 0 says the two values differ at that level; one that contains it says
// the data cannot tell them apart.
func Difference(a, b Estimate) Interval {
	d := a.Value - b.Value
	se := math.Hypot(a.StdErr, b.StdErr)
	z := distuv.UnitNormal.Quantile(1 - (1-a.Level)/2)
	return Interval{d - z*se, d + z*se}
}
