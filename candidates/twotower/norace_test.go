//go:build !race

package twotower

const raceEnabled = false
