package ope

import (
	"context"
	"math/rand/v2"
	"testing"
)

// benchLog is a log of n rows, 20 actions, 3 positions, 4 context features, with a per-row
// context-dependent target distribution (rowPolicy over 50 contexts).
func benchLog(n int) (*Log, Distribution) {
	cfg := simConfig{actions: 20, positions: 3, dim: 4, contexts: 50, explore: 0.3, greed: 3}
	w := newSimWorld(cfg, 1)
	l, ctxOf := w.sample(n, 1)
	return l, rowPolicy{w.target, ctxOf}
}

func BenchmarkEstimators(b *testing.B) {
	l, pi := benchLog(100_000)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		run  func() (Estimate, error)
	}{
		{"ips", func() (Estimate, error) { return IPS(ctx, l, pi, Options{}) }},
		{"snips", func() (Estimate, error) { return SNIPS(ctx, l, pi, Options{}) }},
		{"dr-shrunk-mean", func() (Estimate, error) { return DR(ctx, l, pi, Options{}) }},
		{"dr-ridge", func() (Estimate, error) { return DR(ctx, l, pi, Options{Model: Ridge{}}) }},
		{"ips-bootstrap-1000", func() (Estimate, error) { return IPS(ctx, l, pi, Options{Bootstrap: 1000}) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.run(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(l.Rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkCoverage runs 50 seeds of the coverage study (normal intervals only) as a benchmark,
// so its cost is tracked; the full study is TestCoverageFull (build tag opecoverage).
func BenchmarkCoverage(b *testing.B) {
	for b.Loop() {
		runs := []*coverageRun{{name: "ridge", opt: Options{Model: Ridge{}}}}
		runCoverage(b, defaultSim, 2000, 50, runs)
	}
}

func BenchmarkFolds(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 100_000 + rng.IntN(10)
	for b.Loop() {
		Folds(n, 5, 1)
	}
}
