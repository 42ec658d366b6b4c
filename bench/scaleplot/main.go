// Command scaleplot turns bench/scale.sh's costs.tsv into a Markdown table and a log-log cost
// curve, with the cost exponent b of cost ∝ events^b fitted where two or more sizes were run.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// row is one line of costs.tsv.
type row struct {
	size, stage    string
	wall, cpu, rss float64
	load           string
	events         float64
}

func main() {
	in := flag.String("in", "costs.tsv", "costs.tsv written by bench/scale.sh")
	dir := flag.String("out", ".", "bench/scale.sh's output directory (SIZE.done, replay-SIZE.json)")
	md := flag.String("md", "scale.md", "Markdown table to write")
	png := flag.String("png", "scale.png", "PNG cost curve to write")
	config := flag.String("config", "", "the pipeline file, for the captions")
	flag.Parse()
	rows, err := read(*in, *dir)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*md, []byte(table(rows, *dir, *config)), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := curve(rows, *png, *config); err != nil {
		log.Fatal(err)
	}
}

func read(path, dir string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) != 6 {
			return nil, fmt.Errorf("%s: %q has %d fields, want 6", path, sc.Text(), len(fs))
		}
		r := row{size: fs[0], stage: fs[1], load: fs[5]}
		for i, p := range []*float64{&r.wall, &r.cpu, &r.rss} {
			if *p, err = strconv.ParseFloat(fs[2+i], 64); err != nil {
				return nil, fmt.Errorf("%s: %q: %w", path, sc.Text(), err)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, r.size+".done"))
		if err != nil {
			return nil, fmt.Errorf("size %s has no event count: %w", r.size, err)
		}
		if r.events, err = strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// sizes lists the sizes by event count.
func sizes(rows []row) []row {
	var out []row
	for _, r := range rows {
		if !slices.ContainsFunc(out, func(o row) bool { return o.size == r.size }) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b row) int { return int(a.events - b.events) })
	return out
}

// exponent fits log cost = a + b log events over the sizes that ran stage; ok with two or more.
func exponent(rows []row, stage string, cost func(row) float64) (b float64, n int) {
	var xs, ys []float64
	for _, r := range rows {
		if r.stage == stage && cost(r) > 0 {
			xs, ys = append(xs, math.Log(r.events)), append(ys, math.Log(cost(r)))
		}
	}
	if len(xs) < 2 {
		return 0, len(xs)
	}
	_, b = stat.LinearRegression(xs, ys, nil, false)
	return b, len(xs)
}

func table(rows []row, dir, config string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "`%s`; wall and CPU seconds (user + system, all threads) and peak RSS per command (GNU time) and per training stage (manifest.json `costs`; peak RSS there is the process's so far).\n\n", config)
	fmt.Fprintln(&b, "| size | events | stage | wall s | CPU s | peak RSS MB | load (1 min) at start |")
	fmt.Fprintln(&b, "|---|---:|---|---:|---:|---:|---:|")
	for _, s := range sizes(rows) {
		for _, r := range rows {
			if r.size != s.size || strings.Contains(r.stage, "/") && r.wall < 0.05 && r.cpu < 0.05 {
				continue // another size, or a stage with nothing to do (popularity's tuning)
			}
			stage := r.stage
			if strings.Contains(stage, "/") {
				stage = "  ↳ " + strings.SplitN(stage, "/", 2)[1]
			} else {
				stage = "**" + stage + "**"
			}
			fmt.Fprintf(&b, "| %s | %.0f | %s | %.1f | %.1f | %.0f | %s |\n", r.size, r.events, stage, r.wall, r.cpu, r.rss, r.load)
		}
	}
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| size | replayed steps | ndcg@10 [95% CI] | hr@10 [95% CI] | replay steps/s |")
	fmt.Fprintln(&b, "|---|---:|---|---|---:|")
	for _, s := range sizes(rows) {
		var rep struct {
			Metrics map[string]float64 `json:"metrics"`
			CI      *struct {
				Metrics map[string][2]float64 `json:"metrics"`
			} `json:"ci"`
			Sample *struct{ Steps, Of int } `json:"sample"`
			Rate   float64                  `json:"steps_per_second"`
		}
		data, err := os.ReadFile(filepath.Join(dir, "replay-"+s.size+".json"))
		if err != nil || json.Unmarshal(data, &rep) != nil {
			continue
		}
		steps := "all"
		if rep.Sample != nil {
			steps = fmt.Sprintf("%d of %d", rep.Sample.Steps, rep.Sample.Of)
		}
		cell := func(k string) string {
			s := fmt.Sprintf("%.4f", rep.Metrics[k])
			if rep.CI != nil {
				iv := rep.CI.Metrics[k]
				s += fmt.Sprintf(" [%.4f, %.4f]", iv[0], iv[1])
			}
			return s
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.0f |\n", s.size, steps, cell("ndcg@10"), cell("hr@10"), rep.Rate)
	}
	fmt.Fprintln(&b)
	for _, stage := range []string{"train", "replay"} {
		for _, c := range []struct {
			name string
			get  func(row) float64
		}{{"wall", func(r row) float64 { return r.wall }}, {"CPU", func(r row) float64 { return r.cpu }}} {
			if e, n := exponent(rows, stage, c.get); n >= 2 {
				fmt.Fprintf(&b, "- %s %s time ∝ events^%.2f (least squares over %d sizes)\n", stage, c.name, e, n)
			}
		}
	}
	return b.String()
}

func curve(rows []row, path, config string) error {
	p := plot.New()
	p.Title.Text = "Training cost vs log size — " + config
	p.X.Label.Text = "events (log scale)"
	p.Y.Label.Text = "seconds (log scale)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{}
	var ticks plot.ConstantTicks // one per size run, named as the script names it
	for _, s := range sizes(rows) {
		ticks = append(ticks, plot.Tick{Value: s.events, Label: s.size})
	}
	p.X.Tick.Marker = ticks
	if n := len(ticks); n > 0 {
		p.X.Min, p.X.Max = ticks[0].Value/1.5, ticks[n-1].Value*1.5
	}
	p.Legend.Top, p.Legend.Left = false, false
	lo, hi := math.Inf(1), 0.0
	for _, r := range rows {
		if !strings.Contains(r.stage, "/") && r.stage != "gen" && r.cpu > 0 {
			lo, hi = min(lo, r.cpu, r.wall), max(hi, r.wall)
		}
	}
	if hi > 0 {
		p.Y.Min, p.Y.Max = lo/20, hi*2 // room below the lines for the legend
	}
	i := 0
	for _, stage := range []string{"train", "replay"} {
		for _, c := range []struct {
			name string
			get  func(row) float64
		}{{"wall", func(r row) float64 { return r.wall }}, {"CPU", func(r row) float64 { return r.cpu }}} {
			var pts plotter.XYs
			for _, r := range rows {
				if r.stage == stage && c.get(r) > 0 {
					pts = append(pts, plotter.XY{X: r.events, Y: c.get(r)})
				}
			}
			if len(pts) == 0 {
				continue
			}
			slices.SortFunc(pts, func(a, b plotter.XY) int { return int(a.X - b.X) })
			line, dots, err := plotter.NewLinePoints(pts)
			if err != nil {
				return err
			}
			line.Color, dots.Color, dots.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
			if c.name == "CPU" {
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(line, dots)
			p.Legend.Add(stage+" "+c.name, line, dots)
			i++
		}
	}
	grid := plotter.NewGrid()
	grid.Horizontal.Color, grid.Vertical.Color = color.Gray{Y: 220}, color.Gray{Y: 220}
	p.Add(grid)
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}
