//go:build race

package attention

// The race detector makes sync.Pool drop items at random and slows everything down: allocation
// counts and timings are meaningless under it.
const raceEnabled = true
