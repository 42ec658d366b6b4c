package report

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/replay"
)

// synthetic is a two-configuration comparison shaped like `replay --compare` of the full design:
// sources of 500, 200 and 50 items, the merged list, and rankers keeping 200 and 100.
func synthetic() ([]string, []*replay.Report) {
	rep := func(scale float64, withAttention bool) *replay.Report {
		r := &replay.Report{
			Protocol: replay.Protocol, Dataset: "ml-100k", TrainEvents: 90000, TestSteps: 10000,
			Metrics: map[string]float64{
				"ndcg@10": 0.1165 * scale, "ndcg@20": 0.1402 * scale, "ndcg@50": 0.1771 * scale, "ndcg@100": 0.2043 * scale,
				"hr@10": 0.2235 * scale,
			},
			Stages:        map[string]map[string]float64{},
			StageMaxItems: map[string]int{},
		}
		add := func(name string, longest int, r100, r200, r500 float64) {
			r.StageOrder = append(r.StageOrder, name)
			r.StageMaxItems[name] = longest
			r.Stages[name] = map[string]float64{"recall@100": r100 * scale, "recall@200": r200 * scale, "recall@500": r500 * scale}
		}
		add("twotower", 500, 0.6503, 0.8011, 0.9429)
		add("ials", 200, 0.5463, 0.6902, 0.6902)
		add("popularity", 50, 0.2213, 0.2213, 0.2213)
		add("merged", 712, 0.6844, 0.8120, 0.9432)
		if withAttention {
			add("attention", 200, 0.7006, 0.8102, 0.8102)
		}
		add("lightgbm", 100, 0.7042, 0.7042, 0.7042)
		return r
	}
	return []string{"full", "full-no-attention"}, []*replay.Report{rep(1, true), rep(0.97, false)}
}

// TestWriteRendersBothPlots renders the report of a synthetic comparison. Set
// CASCADE_REPORT_DIR to keep the files and look at them.
func TestWriteRendersBothPlots(t *testing.T) {
	dir := os.Getenv("CASCADE_REPORT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	names, reps := synthetic()
	if err := Write(dir, names, reps); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ndcg.png", "recall.png"} {
		fh, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 200 {
			t.Errorf("%s is %v", f, b)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Replay report (replay-v1)", "Data set `ml-100k`", "![ndcg@K per configuration](ndcg.png)", "full-no-attention"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
}

func TestRecallRowsMarkShortLists(t *testing.T) {
	names, reps := synthetic()
	ns, rows := recallRows(names, reps)
	if !reflect.DeepEqual(ns, []int{100, 200, 500}) {
		t.Fatalf("ns = %v", ns)
	}
	want := map[string][]bool{ // which recall@N each stage has of its own
		"full / twotower":                {true, true, true},
		"full / ials":                    {true, true, false},
		"full / popularity":              {false, false, false},
		"full / merged":                  {true, true, true},
		"full / attention":               {true, true, false},
		"full / lightgbm":                {true, false, false},
		"full-no-attention / lightgbm":   {true, false, false},
		"full-no-attention / popularity": {false, false, false},
	}
	seen := 0
	for _, row := range rows {
		if w, ok := want[row.Label]; ok {
			seen++
			if !reflect.DeepEqual(row.Has, w) {
				t.Errorf("%s: has %v, want %v", row.Label, row.Has, w)
			}
		}
		for j, has := range row.Has {
			if !has && row.Values[j] != 0 {
				t.Errorf("%s: n/a cell %d holds %v", row.Label, j, row.Values[j])
			}
		}
	}
	if seen != len(want) || len(rows) != 11 {
		t.Errorf("rows %d, matched %d", len(rows), seen)
	}
	if rows[0].Label != "full / twotower" || rows[0].Values[2] != 0.9429 {
		t.Errorf("first row %+v", rows[0])
	}
	// One configuration: rows are the bare stage names.
	_, one := recallRows(names[:1], reps[:1])
	if one[0].Label != "twotower" {
		t.Errorf("single-report label %q", one[0].Label)
	}
	// A report without list lengths (older JSON) keeps every value.
	old := *reps[0]
	old.StageMaxItems = nil
	_, rows = recallRows([]string{"old"}, []*replay.Report{&old})
	for _, row := range rows {
		if !reflect.DeepEqual(row.Has, []bool{true, true, true}) {
			t.Errorf("%s without lengths: %v", row.Label, row.Has)
		}
	}
}

func TestNDCGAxes(t *testing.T) {
	_, reps := synthetic()
	if got := cutoffs(reps, "ndcg"); !reflect.DeepEqual(got, []int{10, 20, 50, 100}) {
		t.Errorf("cut-offs %v", got)
	}
	ticks := ticksAt([]int{10, 20, 50, 100})
	var at []float64
	for _, tk := range ticks {
		at = append(at, tk.Value)
		if tk.Label == "" {
			t.Errorf("unlabelled tick at %v", tk.Value)
		}
	}
	if !reflect.DeepEqual(at, []float64{10, 20, 50, 100}) {
		t.Errorf("ticks at %v", at)
	}
	// The y axis runs from 0 to a labelled tick at or above the data (less than a step above), in
	// 4 to 8 even steps.
	for _, c := range []struct {
		v      float64
		top    float64
		labels string
	}{
		{0.2145, 0.25, "0.00 0.05 0.10 0.15 0.20 0.25"},
		{0.2, 0.2, "0.00 0.05 0.10 0.15 0.20"},
		{0.0301, 0.04, "0.00 0.01 0.02 0.03 0.04"},
		{0.61, 0.8, "0.0 0.2 0.4 0.6 0.8"},
		{0.97, 1, "0.00 0.25 0.50 0.75 1.00"},
		{0, 1, "0.00 0.25 0.50 0.75 1.00"},
	} {
		top, ticks := yAxis(c.v)
		var labels []string
		for _, tk := range ticks {
			labels = append(labels, tk.Label)
		}
		if math.Abs(top-c.top) > 1e-12 || strings.Join(labels, " ") != c.labels {
			t.Errorf("yAxis(%v) = %v, %q; want %v, %q", c.v, top, labels, c.top, c.labels)
		}
	}
	for v := 0.001; v < 3; v *= 1.37 {
		top, ticks := yAxis(v)
		if top < v || top-v >= ticks[1].Value || len(ticks) < 5 || len(ticks) > 9 || ticks[len(ticks)-1].Value != top {
			t.Errorf("yAxis(%v) = %v with %d ticks", v, top, len(ticks))
		}
	}
}

func TestSubjectNamesDataSetAndProtocol(t *testing.T) {
	a := &replay.Report{Dataset: "ml-100k", Protocol: "replay-v1"}
	b := &replay.Report{Dataset: "ml-100k", Protocol: "loo"}
	c := &replay.Report{Dataset: "ml-1m"}
	for _, tc := range []struct {
		reps []*replay.Report
		want string
	}{
		{[]*replay.Report{a}, "ml-100k, replay-v1"},
		{[]*replay.Report{a, a}, "ml-100k, replay-v1"},
		{[]*replay.Report{a, b}, "ml-100k, replay-v1 / loo"},
		{[]*replay.Report{a, c}, "ml-100k / ml-1m, replay-v1"},
	} {
		if got := subject(tc.reps); got != tc.want {
			t.Errorf("subject = %q, want %q", got, tc.want)
		}
	}
}
