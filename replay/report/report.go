// Package report owns the replay reports a person reads: a Markdown page with the side-by-side
// table and PNG plots (ndcg@K per configuration, recall@N per stage). It is apart from package
// replay so that what serves and trains does not link the plotting library.
package report

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"github.com/cascade-rec/cascade/replay"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Write writes dir/report.md with the side-by-side table and two PNG plots: ndcg@K per
// configuration, and recall@N per stage of each configuration.
func Write(dir string, names []string, reps []*replay.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := plotNDCG(filepath.Join(dir, "ndcg.png"), names, reps); err != nil {
		return err
	}
	if err := plotRecall(filepath.Join(dir, "recall.png"), names, reps); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Replay report (%s)\n\n", replay.Protocol)
	if len(reps) > 0 {
		r := reps[0]
		fmt.Fprintf(&b, "Data set `%s`: %d train events, %d test steps (%d without history; %d warm, %d cold).\n\n", r.Dataset, r.TrainEvents, r.TestSteps, r.NoHistorySteps, r.WarmSteps, r.ColdSteps)
	}
	b.WriteString("```\n")
	if err := replay.WriteTable(&b, names, reps); err != nil {
		return err
	}
	b.WriteString("```\n\n![ndcg@K per configuration](ndcg.png)\n\n![recall@N per stage](recall.png)\n")
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func plotNDCG(path string, names []string, reps []*replay.Report) error {
	p := plot.New()
	p.Title.Text = "ndcg@K"
	p.X.Label.Text = "K"
	p.Y.Label.Text = "ndcg@K"
	p.Legend.Top = true
	p.Legend.Left = true
	for i, r := range reps {
		var pts plotter.XYs
		for _, k := range []int{10, 20, 50, 100} {
			if v, ok := r.Metrics[fmt.Sprintf("ndcg@%d", k)]; ok {
				pts = append(pts, plotter.XY{X: float64(k), Y: v})
			}
		}
		line, dots, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		line.Color = plotutil.Color(i)
		dots.Color = plotutil.Color(i)
		dots.Shape = plotutil.Shape(i)
		p.Add(line, dots)
		p.Legend.Add(names[i], line, dots)
	}
	p.Add(plotter.NewGrid())
	return save(p, path, 6, 4)
}

// plotRecall draws, per configuration, recall@N of each stage as grouped bars (one group per
// stage, one bar per N).
func plotRecall(path string, names []string, reps []*replay.Report) error {
	ns := replay.RecallKeys(reps)
	var labels []string
	values := make([]plotter.Values, len(ns))
	for i, r := range reps {
		for _, st := range r.StageOrder {
			label := st
			if len(reps) > 1 {
				label = names[i] + "/" + st
			}
			labels = append(labels, label)
			for j, k := range ns {
				values[j] = append(values[j], r.Stages[st][k])
			}
		}
	}
	p := plot.New()
	p.Title.Text = "recall@N per stage"
	p.Y.Label.Text = "recall"
	p.Y.Min, p.Y.Max = 0, 1
	w := vg.Points(max(4, 60/float64(max(1, len(ns)))))
	for j, k := range ns {
		bars, err := plotter.NewBarChart(values[j], w)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(j)
		bars.Offset = vg.Length(float64(j)-float64(len(ns)-1)/2) * w
		p.Add(bars)
		p.Legend.Add(k, bars)
	}
	p.Legend.Top = true
	p.NominalX(labels...)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = -0.9
	p.X.Tick.Label.YAlign = -0.5
	p.BackgroundColor = color.White
	return save(p, path, vg.Length(max(6, 0.9*float64(len(labels)))), 4.5)
}

func save(p *plot.Plot, path string, wIn, hIn vg.Length) error {
	if err := p.Save(wIn*vg.Inch, hIn*vg.Inch, path); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}
