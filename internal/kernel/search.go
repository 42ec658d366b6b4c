package kernel

import "cmp"

// LowerBound returns the first index i with s[i] >= v (len(s) if there is none); s must be
// ascending. It is slices.BinarySearch without the found flag and with a plain < on the element
// type, which keeps the per-event searches of feature counting and GBDT binning free of the
// generic comparison's NaN handling. NaN in s or v is the caller's to rule out.
func LowerBound[T cmp.Ordered](s []T, v T) int {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s[m] < v {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
