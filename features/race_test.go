//go:build race

package features

// The race detector makes sync.Pool drop items at random, so allocation counts are meaningless.
const raceEnabled = true
