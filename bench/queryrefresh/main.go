// Command queryrefresh replays one trained bundle with the two-tower query embedding refreshed
// every N hours (retrieve source option query_refresh_hours, issue 13 experiment 3d) for several
// N, and prints a Markdown table: replay-v1 ndcg@10 and hr@10, the two-tower stage's recall@500,
// the query tower evaluations computed and reused, and the replay's wall and CPU time.
//
// The option is serving-time: every row opens the same bundle with the file's sources set to
// one N, as `cascade replay --config FILE --models BUNDLE` does with a file that differs only in
// query_refresh_hours. Run it through bench/queryrefresh.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/usage"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/replay"
)

func main() {
	config := flag.String("config", "examples/twotower.yaml", "pipeline file the bundle was trained from")
	data := flag.String("data", "", "data set directory (overrides the file's dataset.path)")
	models := flag.String("models", "", "bundle directory written by 'cascade train'")
	hours := flag.String("hours", "0,1,6,24,168", "comma-separated refresh intervals in hours (0: every request)")
	workers := flag.Int("workers", 0, "replay workers (0: GOMAXPROCS)")
	runs := flag.Int("runs", 1, "replays per interval; times are the median, figures must agree")
	flag.Parse()
	if *models == "" {
		log.Fatal("queryrefresh: --models is required")
	}
	var hs []float64
	for _, f := range strings.Split(*hours, ",") {
		h, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			log.Fatalf("queryrefresh: --hours: %v", err)
		}
		hs = append(hs, h)
	}
	if err := run(*config, *data, *models, hs, *workers, max(*runs, 1)); err != nil {
		log.Fatal(err)
	}
}

func run(file, data, models string, hours []float64, workers, runs int) error {
	ctx := context.Background()
	cfg, err := pipeline.LoadConfig(file)
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ds, err := cfg.LoadData(ctx, data, os.TempDir(), quiet)
	if err != nil {
		return err
	}
	split := dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)
	type row struct {
		label           string
		rep             *replay.Report
		computed, calls uint64
		wall, cpu       float64
	}
	var rows []row
	calls := uint64(0) // query tower calls of a replay: the same for every interval
	for _, h := range hours {
		c := *cfg
		c.Retrieve.Sources = slices.Clone(cfg.Retrieve.Sources)
		tower := ""
		for i, s := range c.Retrieve.Sources {
			if cfg.Models[s.Model].Type == "twotower" {
				c.Retrieve.Sources[i].QueryRefreshHours = h
				tower = s.Model
			}
		}
		if tower == "" {
			return fmt.Errorf("%s has no two-tower source", file)
		}
		rw := row{label: "every request"}
		if h > 0 {
			rw.label = fmt.Sprintf("%.4g h", h)
		}
		var walls, cpus []float64
		for r := 0; r < runs; r++ {
			p, err := pipeline.Open(&c, models, ds)
			if err != nil {
				return err
			}
			start := usage.Now()
			rep, err := replay.Run(ctx, split, p.Replay(), replay.Options{
				Dataset: ds.Name, ItemIDs: ds.Items.IDs(), Workers: workers, Progress: progress.Options{Disabled: true},
			})
			if err != nil {
				return err
			}
			cost := usage.Since(start)
			walls, cpus = append(walls, cost.Wall.Seconds()), append(cpus, cost.CPU.Seconds())
			if st, ok := p.QueryRefresh()[tower]; ok {
				rw.computed, rw.calls = st.Computed, st.Computed+st.Reused
				calls = rw.calls
			}
			if rw.rep == nil {
				rw.rep = rep
			} else if rep.Metrics["ndcg@10"] != rw.rep.Metrics["ndcg@10"] {
				return fmt.Errorf("refresh %v h: run %d gives ndcg@10 %v, run 1 %v: not deterministic", h, r+1, rep.Metrics["ndcg@10"], rw.rep.Metrics["ndcg@10"])
			}
		}
		rw.rep.Stages = map[string]map[string]float64{tower: rw.rep.Stages[tower]}
		rw.wall, rw.cpu = median(walls), median(cpus)
		rows = append(rows, rw)
	}
	fmt.Printf("| refresh every | ndcg@10 | warm ndcg@10 | cold ndcg@10 | hr@10 | recall@500 (two-tower) | query tower runs / calls | replay wall s | replay CPU s |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, rw := range rows {
		if rw.calls == 0 { // every request: the tower runs on every call
			rw.computed, rw.calls = calls, calls
		}
		var recall float64
		for _, st := range rw.rep.Stages {
			recall = st["recall@500"]
		}
		m := rw.rep.Metrics
		fmt.Printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %d / %d (%.1f%%) | %.1f | %.1f |\n", rw.label, m["ndcg@10"],
			rw.rep.Slices["warm"]["ndcg@10"], rw.rep.Slices["cold"]["ndcg@10"], m["hr@10"],
			recall, rw.computed, rw.calls, 100*float64(rw.computed)/float64(max(rw.calls, 1)), rw.wall, rw.cpu)
	}
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
