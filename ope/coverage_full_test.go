//go:build opecoverage

package ope

import "testing"

// TestCoverageFull is the full coverage study (go test -tags opecoverage -run CoverageFull -v
// ./ope/, about a minute on one core): 1,000 seeds of the default simulator, the three
// estimators with the Ridge and the ShrunkMean direct models, normal and bootstrap intervals,
// and, for information only, clipped weights (whose bias is allowed to cost coverage).
func TestCoverageFull(t *testing.T) {
	const seeds, rows = 1000, 2000
	runs := []*coverageRun{
		{name: "ridge", opt: Options{Model: Ridge{}, Bootstrap: 200}},
		{name: "shrunk-mean", opt: Options{Model: ShrunkMean{}}},
		{name: "ridge, clip 10", opt: Options{Model: Ridge{}, Clip: 10}},
	}
	naive := runCoverage(t, defaultSim, rows, seeds, runs)
	t.Logf("\n%s", coverageTable(runs, seeds))
	t.Logf("logging policy's mean covers the truth in %d/%d", naive, seeds)
	for _, r := range runs[:2] {
		for iv, c := range r.covered {
			if c < seeds*9/10 {
				t.Errorf("%s, %s: covers the truth in %d/%d runs, want ≥ 90%%", r.name, iv, c, seeds)
			}
		}
	}
}
