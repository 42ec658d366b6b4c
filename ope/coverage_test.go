package ope

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// coverage runs the estimators on seeds 1..seeds of the simulator (a new world and log each) and
// counts how often each interval covers the exact value of the evaluation policy.
type coverageRun struct {
	name    string
	opt     Options
	covered map[string]int
	errs    map[string][]float64 // estimate − truth per seed
	width   map[string]float64   // summed interval widths
	truth   float64              // summed exact values
}

func runCoverage(t testing.TB, cfg simConfig, rows, seeds int, runs []*coverageRun) (naiveCovered int) {
	ctx := context.Background()
	for _, r := range runs {
		r.covered, r.errs, r.width, r.truth = map[string]int{}, map[string][]float64{}, map[string]float64{}, 0
	}
	for s := 1; s <= seeds; s++ {
		w := newSimWorld(cfg, uint64(s))
		truth := w.value(w.target)
		l, ctxOf := w.sample(rows, uint64(s))
		pi := rowPolicy{w.target, ctxOf}
		naive, err := OnPolicy(ctx, l, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if naive.CI.Contains(truth) {
			naiveCovered++
		}
		for _, r := range runs {
			o := r.opt
			o.Seed = uint64(s)
			rep, err := Evaluate(ctx, l, pi, o)
			if err != nil {
				t.Fatalf("seed %d, %s: %v", s, r.name, err)
			}
			r.truth += truth
			for _, e := range rep.Estimates() {
				r.width[e.Estimator] += e.CI.Width()
				if e.CI.Contains(truth) {
					r.covered[e.Estimator]++
				}
				if e.Bootstrap != nil {
					r.width[e.Estimator+" bootstrap"] += e.Bootstrap.Width()
					if e.Bootstrap.Contains(truth) {
						r.covered[e.Estimator+" bootstrap"]++
					}
				}
				r.errs[e.Estimator] = append(r.errs[e.Estimator], e.Value-truth)
			}
		}
	}
	return naiveCovered
}

func coverageTable(runs []*coverageRun, seeds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-16s %9s %11s %11s %11s %11s\n", "run", "interval", "coverage", "mean width", "mean error", "rmse", "mean value")
	for _, r := range runs {
		for _, name := range []string{NameIPS, NameSNIPS, NameDR} {
			mean := stat.Mean(r.errs[name], nil)
			rmse := 0.0
			for _, e := range r.errs[name] {
				rmse += e * e
			}
			rmse = math.Sqrt(rmse / float64(seeds))
			for _, iv := range []string{name, name + " bootstrap"} {
				if c, ok := r.covered[iv]; ok || iv == name {
					fmt.Fprintf(&b, "%-16s %-16s %4d/%-4d %11.4f %11.5f %11.4f %11.4f\n", r.name, iv, c, seeds, r.width[iv]/float64(seeds), mean, rmse, r.truth/float64(seeds))
				}
			}
		}
	}
	return b.String()
}

// TestCoverage is the default-suite check of the intervals: on 100 seeds of the simulator (6
// actions, 3 positions, 3 context features, 2,000 rows; a new world and log per seed), the 95%
// intervals of IPS, SNIPS and DR (normal approximation, and percentile bootstrap with 100
// resamples) cover the exact value in at least 90% of the runs, while the logging policy's own
// mean misses it in most runs (the evaluation is not trivial), and the estimators show no bias. With a true coverage of
// 95%, 100 seeds fall below 90% with probability about 1%; 1,000 seeds are TestCoverageFull
// (build tag opecoverage).
func TestCoverage(t *testing.T) {
	const seeds, rows = 100, 2000
	runs := []*coverageRun{{name: "ridge", opt: Options{Model: Ridge{}, Bootstrap: 100}}}
	naive := runCoverage(t, defaultSim, rows, seeds, runs)
	t.Logf("\n%s", coverageTable(runs, seeds))
	t.Logf("logging policy's mean covers the truth in %d/%d", naive, seeds)
	for iv, c := range runs[0].covered {
		if c < seeds*9/10 {
			t.Errorf("%s: covers the truth in %d/%d runs, want ≥ 90%%", iv, c, seeds)
		}
	}
	if len(runs[0].covered) != 6 {
		t.Errorf("coverage counted for %d intervals, want 6", len(runs[0].covered))
	}
	if naive > seeds/5 {
		t.Errorf("the logging policy's own mean covers the evaluation policy's value in %d/%d runs: the simulator does not test off-policy correction", naive, seeds)
	}
	// Unbiasedness: the mean error over seeds is within 3 standard errors of 0.
	for name, errs := range runs[0].errs {
		m, sd := stat.MeanStdDev(errs, nil)
		if math.Abs(m) > 3*sd/math.Sqrt(seeds) {
			t.Errorf("%s: mean error %g over %d seeds (sd %g): biased", name, m, seeds, sd)
		}
	}
}
