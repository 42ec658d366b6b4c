//go:build race

package als

// The race detector makes sync.Pool drop items at random, so allocation counts are meaningless.
const raceEnabled = true
