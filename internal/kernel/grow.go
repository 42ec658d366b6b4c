package kernel

// Grow returns s resized to length n, reusing its array when the capacity suffices. Otherwise it
// allocates a new array with a quarter more room, so that a buffer whose size creeps up from
// call to call (ragged batches, longer histories) settles after a few growths. The contents are
// unspecified: callers overwrite what they use.
func Grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}
