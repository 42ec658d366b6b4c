package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cascade-rec/cascade/replay"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// recallRow is one stage of one configuration in the recall plot: its recall@N for each N, and
// whether the stage has a recall@N of its own (false: its lists never reach N, or the report has
// no such value).
type recallRow struct {
	Label  string
	Values []float64
	Has    []bool
	// Longest is the stage's longest list (0: unknown).
	Longest int
}

// recallRows lists every stage of every report with its recall at each N of ns (ascending, from
// the reports' recall@N keys). A stage whose longest list is shorter than N gets no value at N:
// its recall@N only repeats its recall at its own length.
func recallRows(names []string, reps []*replay.Report) (ns []int, rows []recallRow) {
	for _, k := range replay.RecallKeys(reps) {
		if n, err := strconv.Atoi(strings.TrimPrefix(k, "recall@")); err == nil {
			ns = append(ns, n)
		}
	}
	for i, r := range reps {
		for _, st := range r.StageOrder {
			row := recallRow{Label: st, Values: make([]float64, len(ns)), Has: make([]bool, len(ns))}
			if len(reps) > 1 {
				row.Label = names[i] + " / " + st
			}
			longest, known := r.StageMaxItems[st]
			row.Longest = longest
			for j, n := range ns {
				v, ok := r.Stages[st][fmt.Sprintf("recall@%d", n)]
				if known && longest < n {
					ok = false
				}
				row.Has[j] = ok
				if ok {
					row.Values[j] = v
				}
			}
			rows = append(rows, row)
		}
	}
	return ns, rows
}

// Bar geometry of the recall plot, in points (vg.Length's unit).
const (
	barWidth vg.Length = 9
	groupGap vg.Length = 10
)

// plotRecall draws recall@N per stage as horizontal grouped bars: one group per stage (first
// stage on top, stage names written horizontally on the left), one bar per N, the value at the
// end of each bar, "n/a" where the stage has no recall@N.
func plotRecall(path string, names []string, reps []*replay.Report) error {
	ns, rows := recallRows(names, reps)
	p := plot.New()
	p.Title.Text = "recall@N per stage — " + subject(reps)
	p.X.Label.Text = "recall (share of test targets in the stage's first N items)"
	leg := plot.NewLegend()
	labels := make([]string, len(rows))
	for i, row := range rows {
		labels[len(rows)-1-i] = row.Label // the first row on top
	}
	grid := plotter.NewGrid()
	grid.Horizontal.Color = nil
	p.Add(grid)
	for j, n := range ns {
		vals := make(plotter.Values, len(rows))
		var pts plotter.XYs
		var texts []string
		for i, row := range rows {
			y := len(rows) - 1 - i
			vals[y] = row.Values[j]
			pts = append(pts, plotter.XY{X: row.Values[j], Y: float64(y)})
			texts = append(texts, cellText(row, j))
		}
		if len(rows) == 0 {
			break
		}
		// Bars of smaller N sit higher in their group.
		off := (vg.Length(len(ns)-1)/2 - vg.Length(j)) * barWidth
		bars, err := plotter.NewBarChart(vals, barWidth)
		if err != nil {
			return fmt.Errorf("report: recall@%d: %w", n, err)
		}
		bars.Horizontal = true
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(j)
		bars.Offset = off
		p.Add(bars)
		leg.Add(fmt.Sprintf("recall@%d", n), bars)
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: texts})
		if err != nil {
			return fmt.Errorf("report: recall@%d: %w", n, err)
		}
		for i := range lab.TextStyle {
			lab.TextStyle[i].Font.Size = vg.Points(7)
			lab.TextStyle[i].YAlign = draw.YCenter
		}
		lab.Offset = vg.Point{X: vg.Points(2), Y: off}
		p.Add(lab)
	}
	p.NominalY(labels...)
	p.X.Min, p.X.Max = 0, 1.12 // room for the value written after a full bar
	p.X.Tick.Marker = plot.ConstantTicks{
		{Value: 0, Label: "0"}, {Value: 0.2, Label: "0.2"}, {Value: 0.4, Label: "0.4"},
		{Value: 0.6, Label: "0.6"}, {Value: 0.8, Label: "0.8"}, {Value: 1, Label: "1"},
	}
	p.Y.Min, p.Y.Max = -0.5, float64(len(rows))-0.5
	p.Y.Padding = 0
	group := vg.Length(max(1, len(ns)))*barWidth + groupGap
	h := vg.Length(max(1, len(rows)))*group + 1.2*vg.Inch
	return render(path, p, leg, 7*vg.Inch, max(h, 2.5*vg.Inch))
}

// cellText is what the plot writes at the end of row's bar j: the value, or "n/a" where the stage
// has no recall@N (the first such cell says why: how long the stage's lists are).
func cellText(row recallRow, j int) string {
	if row.Has[j] {
		return fmt.Sprintf("%.3f", row.Values[j])
	}
	if row.Longest > 0 && (j == 0 || row.Has[j-1]) {
		return fmt.Sprintf("n/a (lists of ≤ %d items)", row.Longest)
	}
	return "n/a"
}
