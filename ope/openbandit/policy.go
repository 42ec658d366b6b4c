package openbandit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/cascade-rec/cascade/ope"
)

// ToLog turns records into an ope.Log of items actions and Positions positions.
func ToLog(recs []Record, items int) *ope.Log {
	l := &ope.Log{Actions: items, Positions: Positions, Rows: make([]ope.Row, len(recs))}
	for i, r := range recs {
		l.Rows[i] = ope.Row{Action: r.Item, Position: r.Position - 1, Reward: float64(r.Click), Propensity: r.Propensity}
	}
	return l
}

// FrequencyPolicy estimates a context-free policy from its own log: π̂(a | k) is the share of the
// log's impressions at position k that showed item a. Every position must have impressions.
func FrequencyPolicy(recs []Record, items int) (ope.Table, error) {
	counts := make([][]float64, Positions)
	for k := range counts {
		counts[k] = make([]float64, items)
	}
	for _, r := range recs {
		counts[r.Position-1][r.Item]++
	}
	for k, row := range counts {
		n := 0.0
		for _, c := range row {
			n += c
		}
		if n == 0 {
			return nil, fmt.Errorf("openbandit: no impression at position %d to estimate the policy from", k+1)
		}
		for a := range row {
			row[a] /= n
		}
	}
	return ope.NewTable(counts, items, Positions)
}

// Windows cuts the span of time [From, To] into N equal windows, so that a policy that changed
// during the log can be estimated per window.
type Windows struct {
	From, To time.Time
	N        int
}

// SpanOf is the time span covering every record of the logs, cut into n windows.
func SpanOf(n int, logs ...[]Record) Windows {
	w := Windows{N: n}
	first := true
	for _, l := range logs {
		for _, r := range l {
			if first || r.Time.Before(w.From) {
				w.From = r.Time
			}
			if first || r.Time.After(w.To) {
				w.To = r.Time
			}
			first = false
		}
	}
	return w
}

// Of is the window of time t: 0 for t ≤ From, N−1 for t ≥ To.
func (w Windows) Of(t time.Time) int {
	span := w.To.Sub(w.From)
	if span <= 0 || !t.After(w.From) {
		return 0
	}
	i := int(float64(t.Sub(w.From)) / float64(span) * float64(w.N))
	return min(max(i, 0), w.N-1)
}

// WindowPolicy is a context-free policy estimated per time window: the evaluated log's row i
// (whose time fell in window Window[i]) gets Tables[Window[i]].
type WindowPolicy struct {
	Tables []ope.Table
	Window []int
}

// NewWindowPolicy estimates FrequencyPolicy from the records of source in each window and
// assigns each record of target (the log to be evaluated, in its row order) its window. Every
// window must have source impressions at every position.
func NewWindowPolicy(source, target []Record, items int, w Windows) (*WindowPolicy, error) {
	if w.N < 1 {
		return nil, fmt.Errorf("openbandit: %d time windows, want at least 1", w.N)
	}
	parts := make([][]Record, w.N)
	for _, r := range source {
		i := w.Of(r.Time)
		parts[i] = append(parts[i], r)
	}
	p := &WindowPolicy{Tables: make([]ope.Table, w.N), Window: make([]int, len(target))}
	for i, part := range parts {
		t, err := FrequencyPolicy(part, items)
		if err != nil {
			return nil, fmt.Errorf("time window %d of %d: %w", i+1, w.N, err)
		}
		p.Tables[i] = t
	}
	for i, r := range target {
		p.Window[i] = w.Of(r.Time)
	}
	return p, nil
}

// Prob is π̂(a | row i's window and position).
func (p *WindowPolicy) Prob(i int, r *ope.Row, a int) float64 {
	return p.Tables[p.Window[i]].Prob(i, r, a)
}

// Dist copies π̂(· | row i's window and position) into dst.
func (p *WindowPolicy) Dist(i int, r *ope.Row, dst []float64) { p.Tables[p.Window[i]].Dist(i, r, dst) }

// CheckLog checks that the policy has a window per row and tables of the log's shape.
func (p *WindowPolicy) CheckLog(l *ope.Log) error {
	if len(p.Window) != len(l.Rows) {
		return fmt.Errorf("window policy has %d rows, log has %d", len(p.Window), len(l.Rows))
	}
	for _, t := range p.Tables {
		if err := t.CheckLog(l); err != nil {
			return err
		}
	}
	return nil
}

// policySDStream is the PCG stream of PolicySD's resamples.
const policySDStream = 0x5d

// PolicySD measures how much the estimates on l move with the uncertainty of a policy estimated
// from the records of source: it draws resamples bootstrap resamples of source (with
// replacement, from PCG(opt.Seed, policySDStream)), rebuilds the policy from each with build,
// evaluates it on the fixed log l with opt (without its bootstrap; the folds stay those of
// opt.Seed), and returns the standard deviation of each estimator's value (IPS, SNIPS, DR).
func PolicySD(ctx context.Context, l *ope.Log, source []Record, build func([]Record) (ope.Distribution, error), resamples int, opt ope.Options) ([3]float64, error) {
	opt.Bootstrap = 0
	rng := rand.New(rand.NewPCG(opt.Seed, policySDStream))
	vals := [3][]float64{}
	re := make([]Record, len(source))
	for range resamples {
		if err := ctx.Err(); err != nil {
			return [3]float64{}, err
		}
		for j := range re {
			re[j] = source[rng.IntN(len(source))]
		}
		pi, err := build(re)
		if err != nil {
			return [3]float64{}, err
		}
		rep, err := ope.Evaluate(ctx, l, pi, opt)
		if err != nil {
			return [3]float64{}, err
		}
		for j, e := range rep.Estimates() {
			vals[j] = append(vals[j], e.Value)
		}
	}
	var sd [3]float64
	for j := range sd {
		sd[j] = stat.StdDev(vals[j], nil)
	}
	return sd, nil
}
