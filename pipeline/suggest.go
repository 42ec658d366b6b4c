package pipeline

import (
	"fmt"
	"strings"
)

// didYouMean ends an unknown-key message: the known key closest to key when it is close enough
// to be a typo (an edit distance of at most a third of its length, and at least 1), else the
// list of known keys (nothing when none is known).
func didYouMean(key string, known []string) string {
	best, bestDist := "", -1
	for _, k := range known {
		d := editDistance(strings.ToLower(key), strings.ToLower(k))
		if d <= max(1, len([]rune(k))/3) && (bestDist < 0 || d < bestDist) {
			best, bestDist = k, d
		}
	}
	switch {
	case best != "":
		return fmt.Sprintf("; did you mean %q?", best)
	case len(known) == 0:
		return ""
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

// editDistance counts the insertions, deletions, substitutions and swaps of adjacent characters
// that turn a into b (optimal string alignment distance).
func editDistance(a, b string) int {
	s, t := []rune(a), []rune(b)
	// d[i][j] is the distance between s[:i] and t[:j].
	d := make([][]int, len(s)+1)
	for i := range d {
		d[i] = make([]int, len(t)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(s); i++ {
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(s)][len(t)]
}
