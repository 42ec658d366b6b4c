// Package scoreorder holds the score order the rankers share: best first, as a ranker stage puts
// its candidates in (ranker.ByScore) and as LightGBM ranks documents for NDCG (package gbdt).
package scoreorder

// Descending orders larger values first. Equal and unordered (NaN) values compare equal, so that
// a stable sort keeps their order, as LightGBM's std::stable_sort on a > b does.
func Descending[T float32 | float64](a, b T) int {
	if a > b {
		return -1
	}
	if a < b {
		return 1
	}
	return 0
}
