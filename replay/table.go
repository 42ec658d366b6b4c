package replay

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteTable prints reports side by side: one column per report (named by names), one row per
// metric, then the per-stage recalls and latency.
func WriteTable(w io.Writer, names []string, reps []*Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	row := func(label string, val func(*Report) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, r := range reps {
			fmt.Fprintf(tw, "%s\t", val(r))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "metric\t")
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t", n)
	}
	fmt.Fprintln(tw)
	// A sampled report's cells add the interval: "0.1234 [0.1200, 0.1270]".
	cell := func(format string, v float64, r *Report, ci func(*Intervals) ([2]float64, bool)) string {
		s := fmt.Sprintf(format, v)
		if r.CI != nil {
			if iv, ok := ci(r.CI); ok {
				s += fmt.Sprintf(" ["+format+", "+format+"]", iv[0], iv[1])
			}
		}
		return s
	}
	num := func(get func(*Report) (float64, bool), ci func(*Intervals) ([2]float64, bool)) func(*Report) string {
		return func(r *Report) string {
			if v, ok := get(r); ok {
				return cell("%.4f", v, r, ci)
			}
			return "-"
		}
	}
	cnt := func(get func(*Report) int) func(*Report) string {
		return func(r *Report) string { return fmt.Sprint(get(r)) }
	}
	row("test steps", cnt(func(r *Report) int { return r.TestSteps }))
	row("no-history steps", cnt(func(r *Report) int { return r.NoHistorySteps }))
	row("warm / cold steps", func(r *Report) string { return fmt.Sprintf("%d / %d", r.WarmSteps, r.ColdSteps) })
	if sampled(reps) {
		row("sampled steps", func(r *Report) string {
			if r.Sample == nil {
				return "all"
			}
			return fmt.Sprintf("%d of %d (seed %d, %g%% CI)", r.Sample.Steps, r.Sample.Of, r.Sample.Seed, 100*r.Sample.Level)
		})
	}
	for _, k := range metricKeys(reps) {
		row(k, num(func(r *Report) (float64, bool) { v, ok := r.Metrics[k]; return v, ok },
			func(c *Intervals) ([2]float64, bool) { v, ok := c.Metrics[k]; return v, ok }))
	}
	for _, slice := range append([]string{"warm", "cold"}, typeSlices(reps)...) {
		row(slice+" ndcg@10", num(func(r *Report) (float64, bool) { v, ok := r.Slices[slice]["ndcg@10"]; return v, ok },
			func(c *Intervals) ([2]float64, bool) { v, ok := c.Slices[slice]["ndcg@10"]; return v, ok }))
	}
	for _, st := range stageNames(reps) {
		for _, k := range RecallKeys(reps) {
			row(st+" "+k, num(func(r *Report) (float64, bool) { v, ok := r.Stages[st][k]; return v, ok },
				func(c *Intervals) ([2]float64, bool) { v, ok := c.Stages[st][k]; return v, ok }))
		}
	}
	for _, q := range []string{"p50", "p95", "p99"} {
		row("latency "+q+" ms", func(r *Report) string {
			return cell("%.3f", r.LatencyMS[q], r, func(c *Intervals) ([2]float64, bool) { v, ok := c.LatencyMS[q]; return v, ok })
		})
	}
	for _, st := range stageNames(reps) {
		if !anyStageLatency(reps, st) {
			continue
		}
		row(st+" p99 ms", func(r *Report) string {
			if m, ok := r.StageLatencyMS[st]; ok {
				return cell("%.3f", m["p99"], r, func(c *Intervals) ([2]float64, bool) { v, ok := c.StageLatencyMS[st]["p99"]; return v, ok })
			}
			return "-"
		})
	}
	row("replay steps/s", func(r *Report) string { return fmt.Sprintf("%.0f", r.StepsPerSecond) })
	return tw.Flush()
}

// typeSlices lists the event type slices of any report, sorted.
func typeSlices(reps []*Report) []string {
	seen := map[string]bool{}
	for _, r := range reps {
		for name := range r.Slices {
			if strings.HasPrefix(name, TypeSlice("")) {
				seen[name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// metricKeys orders the main metrics: hr, ndcg, mrr by cut-off, then the rest alphabetically.
func metricKeys(reps []*Report) []string {
	set := map[string]bool{}
	for _, r := range reps {
		for k := range r.Metrics {
			set[k] = true
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	rank := func(k string) (int, int, string) {
		name, cut, _ := strings.Cut(k, "@")
		var n int
		fmt.Sscan(cut, &n)
		order := map[string]int{"hr": 0, "ndcg": 1, "mrr": 2}
		o, ok := order[name]
		if !ok {
			o = 3
		}
		return n, o, k
	}
	sort.Slice(keys, func(i, j int) bool {
		ni, oi, ki := rank(keys[i])
		nj, oj, kj := rank(keys[j])
		if (oi == 3) != (oj == 3) {
			return oi < 3
		}
		if ni != nj {
			return ni < nj
		}
		if oi != oj {
			return oi < oj
		}
		return ki < kj
	})
	return keys
}

func stageNames(reps []*Report) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range reps {
		for _, n := range r.StageOrder {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

// RecallKeys lists the recall@N keys of the reports' stages, by N.
func RecallKeys(reps []*Report) []string {
	set := map[string]bool{}
	for _, r := range reps {
		for _, m := range r.Stages {
			for k := range m {
				set[k] = true
			}
		}
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		var a, b int
		fmt.Sscanf(keys[i], "recall@%d", &a)
		fmt.Sscanf(keys[j], "recall@%d", &b)
		return a < b
	})
	return keys
}

func sampled(reps []*Report) bool {
	for _, r := range reps {
		if r.Sample != nil {
			return true
		}
	}
	return false
}

func anyStageLatency(reps []*Report, name string) bool {
	for _, r := range reps {
		if _, ok := r.StageLatencyMS[name]; ok {
			return true
		}
	}
	return false
}
