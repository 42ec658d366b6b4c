// Command candgenplot draws issue 13's experiment 3a from `cascade simulate --json` reports of
// several seeds: per round, the median over the seeds of the candidate lists' junk share and
// their recall of the true top k, for the two-tower generators (one per training mode) and the
// cascade bundle's candidates.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// report is the part of simulate.Report the plot reads.
type report struct {
	Policies []string `json:"policies"`
	Rounds   []struct {
		Junk   map[string]float64 `json:"candidate_junk_share"`
		Recall map[string]float64 `json:"candidate_recall"`
	} `json:"rounds"`
}

func main() {
	out := flag.String("png", "candgen.png", "PNG to write")
	title := flag.String("title", "", "a line under the panels' titles (world, seeds)")
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatal("usage: candgenplot [-png FILE] report.json...")
	}
	var reps []report
	for _, path := range flag.Args() {
		b, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		reps = append(reps, r)
	}
	var pols []string
	for _, p := range reps[0].Policies {
		if strings.HasPrefix(p, "twotower-") || p == "cascade" {
			pols = append(pols, p)
		}
	}
	junk := panel("candidate slots on junk (true utility < median)", *title, true)
	recall := panel("recall of the true top 10 in the candidates", *title, false)
	for i, p := range pols {
		name := strings.TrimPrefix(p, "twotower-")
		if p == "cascade" {
			name = "cascade bundle (iALS + popularity → LightGBM)"
		} else {
			name = "two-tower, " + name
		}
		for _, pl := range []struct {
			p   *plot.Plot
			get func(r report, k int) float64
		}{
			{junk, func(r report, k int) float64 { return r.Rounds[k].Junk[p] }},
			{recall, func(r report, k int) float64 { return r.Rounds[k].Recall[p] }},
		} {
			var pts plotter.XYs
			for k := range reps[0].Rounds {
				var xs []float64
				for _, r := range reps {
					xs = append(xs, pl.get(r, k))
				}
				slices.Sort(xs)
				pts = append(pts, plotter.XY{X: float64(k), Y: stat.Quantile(0.5, stat.Empirical, xs, nil)})
			}
			line, dots, err := plotter.NewLinePoints(pts)
			if err != nil {
				log.Fatal(err)
			}
			line.Color, dots.Color, dots.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
			pl.p.Add(line, dots)
			pl.p.Legend.Add(name, line, dots)
		}
	}
	img := vgimg.New(12*vg.Inch, 4.5*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Inch / 4}
	canvases := plot.Align([][]*plot.Plot{{junk, recall}}, tiles, dc)
	junk.Draw(canvases[0][0])
	recall.Draw(canvases[0][1])
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", *out)
}

func panel(title, sub string, top bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	if sub != "" {
		p.Title.Text += "\n" + sub
	}
	p.X.Label.Text = "round (median over seeds)"
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = top
	p.Add(plotter.NewGrid())
	return p
}
