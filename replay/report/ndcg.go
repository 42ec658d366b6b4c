package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cascade-rec/cascade/replay"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plotNDCG draws ndcg@K against K, one line per configuration. K is on a log scale with a tick at
// every cut-off the reports hold (10, 20, 50, 100) and nowhere else; the y axis starts at 0.
func plotNDCG(path string, names []string, reps []*replay.Report) error {
	ks := cutoffs(reps, "ndcg")
	p := plot.New()
	p.Title.Text = "ndcg@K — " + subject(reps)
	p.X.Label.Text = "K (log scale)"
	p.Y.Label.Text = "ndcg@K"
	leg := plot.NewLegend()
	top := 0.0
	for i, r := range reps {
		var pts plotter.XYs
		for _, k := range ks {
			if v, ok := r.Metrics[fmt.Sprintf("ndcg@%d", k)]; ok {
				pts = append(pts, plotter.XY{X: float64(k), Y: v})
				top = max(top, v)
			}
		}
		if len(pts) == 0 {
			continue
		}
		line, dots, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("report: ndcg of %s: %w", names[i], err)
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		dots.Color = plotutil.Color(i)
		dots.Shape = plotutil.Shape(i)
		dots.Radius = vg.Points(3)
		p.Add(line, dots)
		leg.Add(names[i], line, dots)
	}
	p.Add(plotter.NewGrid())
	if len(ks) > 0 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = ticksAt(ks)
		// A little room either side of the first and last K, on the log scale.
		p.X.Min, p.X.Max = float64(ks[0])/1.15, float64(ks[len(ks)-1])*1.15
	}
	p.Y.Min = 0
	p.Y.Max, p.Y.Tick.Marker = yAxis(top)
	return render(path, p, leg, 6*vg.Inch, 4*vg.Inch)
}

// cutoffs lists the cut-offs K of metric name@K found in the reports, ascending.
func cutoffs(reps []*replay.Report, name string) []int {
	var ks []int
	for _, r := range reps {
		for key := range r.Metrics {
			m, cut, ok := strings.Cut(key, "@")
			if !ok || m != name {
				continue
			}
			if k, err := strconv.Atoi(cut); err == nil && k > 0 && !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
	}
	slices.Sort(ks)
	return ks
}

// ticksAt puts a labelled tick at each of ks and nowhere else.
func ticksAt(ks []int) plot.ConstantTicks {
	ticks := make(plot.ConstantTicks, len(ks))
	for i, k := range ks {
		ticks[i] = plot.Tick{Value: float64(k), Label: strconv.Itoa(k)}
	}
	return ticks
}

// yAxis lays out a value axis from 0 over data up to v: the largest step of 1, 2, 2.5 or 5 × 10^n
// that still gives at least 4 labelled steps, the last at or above v. For v ≤ 0 the axis is [0, 1]
// (an empty plot still has an axis).
func yAxis(v float64) (top float64, ticks plot.ConstantTicks) {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		v = 1
	}
	step := 0.0
	for e := math.Pow(10, math.Ceil(math.Log10(v))); step == 0; e /= 10 {
		for _, m := range []float64{5, 2.5, 2, 1} {
			if math.Ceil(v/(m*e)-1e-9) >= 4 {
				step = m * e
				break
			}
		}
	}
	n := int(math.Ceil(v/step - 1e-9))
	for i := 0; i <= n; i++ {
		x := float64(i) * step
		label := strconv.FormatFloat(x, 'f', decimals(step), 64)
		ticks = append(ticks, plot.Tick{Value: x, Label: label})
	}
	return float64(n) * step, ticks
}

// decimals is the number of decimals that writes every multiple of step exactly.
func decimals(step float64) int {
	for d := 0; d < 12; d++ {
		scaled := step * math.Pow(10, float64(d))
		if math.Abs(scaled-math.Round(scaled)) < 1e-9 {
			return d
		}
	}
	return 12
}
