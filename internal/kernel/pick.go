package kernel

// Pick draws an index with probability w[j]/total, given u uniform in [0, 1) and total = Σ w:
// the first j whose cumulative weight passes u·total. Zero weights (items already taken, in a
// draw without replacement) are never picked, even through rounding at the end; Pick returns -1
// when every weight is 0.
func Pick(u float64, w []float64, total float64) int {
	x := u * total
	pick := -1
	for j, wj := range w {
		if wj == 0 {
			continue
		}
		pick = j
		if x -= wj; x < 0 {
			break
		}
	}
	return pick
}
