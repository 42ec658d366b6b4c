package ope

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// bootstrapStream is the PCG stream of the bootstrap (the folds use foldStream), so that the two
// draw independent sequences from the same Options.Seed.
const bootstrapStream = 0x0b00757a

// ratio is an estimator written as Σu_i / Σv_i over per-row terms; v == nil means v_i = 1
// (a plain mean: IPS, DR, on-policy), v = w gives SNIPS.
type ratio struct {
	u, v []float64
}

func (r ratio) den(i int) float64 {
	if r.v == nil {
		return 1
	}
	return r.v[i]
}

// value is Σu/Σv; ok is false when Σv is 0.
func (r ratio) value() (v float64, ok bool) {
	su, sv := 0.0, 0.0
	for i, u := range r.u {
		su += u
		sv += r.den(i)
	}
	if sv == 0 {
		return 0, false
	}
	return su / sv, true
}

// normal is the value with its normal-approximation interval: the standard error of the mean
// of the influence terms (u_i − V v_i)/mean(v), with the n − 1 sample variance. For v ≡ 1 that
// is sd(u)/√n.
func (r ratio) normal(level float64) (value, se float64, ci Interval, ok bool) {
	n := len(r.u)
	value, ok = r.value()
	if !ok || n < 2 {
		return value, 0, Interval{}, false
	}
	meanV := 1.0
	if r.v != nil {
		meanV = stat.Mean(r.v, nil)
	}
	ss := 0.0
	for i, u := range r.u {
		phi := (u - value*r.den(i)) / meanV
		ss += phi * phi
	}
	se = math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	z := distuv.UnitNormal.Quantile(1 - (1-level)/2)
	return value, se, Interval{value - z*se, value + z*se}, true
}

// bootstrap is the percentile-bootstrap interval over rows: resamples draws of n rows with
// replacement from PCG(seed, bootstrapStream), the estimator recomputed on each. Resamples whose
// Σv is 0 are skipped (counted in skipped); an error when all are.
func (r ratio) bootstrap(ctx context.Context, level float64, resamples int, seed uint64) (ci Interval, skipped int, err error) {
	n := len(r.u)
	rng := rand.New(rand.NewPCG(seed, bootstrapStream))
	stats := make([]float64, 0, resamples)
	for b := 0; b < resamples; b++ {
		if err := ctx.Err(); err != nil {
			return Interval{}, 0, err
		}
		su, sv := 0.0, 0.0
		for range n {
			i := rng.IntN(n)
			su += r.u[i]
			sv += r.den(i)
		}
		if sv == 0 {
			skipped++
			continue
		}
		stats = append(stats, su/sv)
	}
	if len(stats) == 0 {
		return Interval{}, skipped, fmt.Errorf("ope: bootstrap: all %d resamples had no weight: %w", resamples, ErrNoSupport)
	}
	slices.Sort(stats)
	alpha := (1 - level) / 2
	return Interval{stat.Quantile(alpha, stat.LinInterp, stats, nil), stat.Quantile(1-alpha, stat.LinInterp, stats, nil)}, skipped, nil
}

// estimate fills an Estimate from the per-row terms: value, normal interval and, when asked,
// the bootstrap interval.
func (r ratio) estimate(ctx context.Context, name string, o Options) (Estimate, error) {
	n := len(r.u)
	if n < 2 {
		return Estimate{}, fmt.Errorf("ope: %s needs at least 2 rows, got %d: %w", name, n, ErrEmpty)
	}
	value, se, ci, ok := r.normal(o.Level)
	if !ok {
		return Estimate{}, fmt.Errorf("ope: %s: %w", name, ErrNoSupport)
	}
	e := Estimate{Estimator: name, Value: value, CI: ci, StdErr: se, Level: o.Level, N: n}
	if o.Bootstrap > 0 {
		bci, skipped, err := r.bootstrap(ctx, o.Level, o.Bootstrap, o.Seed)
		if err != nil {
			return Estimate{}, fmt.Errorf("ope: %s: %w", name, err)
		}
		if skipped > 0 {
			o.Logger.Debug("bootstrap resamples without weight skipped", "estimator", name, "skipped", skipped, "resamples", o.Bootstrap)
		}
		e.Bootstrap = &bci
	}
	return e, nil
}
