// Command pairdiff replays trained pipelines over the same replay-v1 test steps and gives each
// one's ndcg@10 and hr@10 difference from a baseline with a 95% interval. The pipelines answer
// the very same steps, so the difference is judged step by step (paired), which separates gaps
// far smaller than each pipeline's own interval. Steps of one user are not independent, so the
// interval is clustered by user: the standard error of Σ_u D_u / N over users, D_u the user's
// summed per-step difference. Each pipeline's mean is checked against replay's own figure.
//
//	go run ./bench/pairdiff --data DIR --models MODELS BASE.yaml OTHER.yaml ...
//
// MODELS holds one bundle per file, MODELS/NAME (what `cascade replay --compare` writes); the
// first file is the baseline. Prints a Markdown table.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/replay"
	"gonum.org/v1/gonum/stat"
)

func main() {
	data := flag.String("data", "", "data set directory")
	models := flag.String("models", "", "directory holding one bundle per pipeline file (MODELS/NAME)")
	workers := flag.Int("workers", 0, "replay workers (0: GOMAXPROCS)")
	flag.Parse()
	if *data == "" || *models == "" || flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: pairdiff --data DIR --models MODELS BASE.yaml OTHER.yaml ...")
		os.Exit(2)
	}
	if err := run(context.Background(), *data, *models, *workers, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "pairdiff:", err)
		os.Exit(1)
	}
}

// stepKey names one replay step: the user and the length of the history it was asked with
// (one more per test event of the user, so unique per step).
type stepKey struct {
	user int32
	hist int
}

// recorder passes each step to the pipeline and keeps its top 10.
type recorder struct {
	inner replay.Recommender
	mu    sync.Mutex
	top   map[stepKey][]int32
}

func (r *recorder) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (replay.Response, error) {
	resp, err := r.inner.Recommend(ctx, q, skip)
	if err != nil {
		return resp, err
	}
	top := make([]int32, min(10, len(resp.Items)))
	for i := range top {
		top[i] = resp.Items[i].Item
	}
	r.mu.Lock()
	r.top[stepKey{q.User, len(q.History)}] = top
	r.mu.Unlock()
	return resp, nil
}

// gains are one pipeline's per-step ndcg@10 and hr@10, in the order of the test steps replay
// counts (those with a history).
type gains struct {
	name      string
	ndcg, hit []float64
}

func run(ctx context.Context, dataDir, models string, workers int, files []string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var ds *dataset.Dataset
	var all []gains
	var users []int32 // the user of each counted step
	for _, file := range files {
		cfg, err := pipeline.LoadConfig(file)
		if err != nil {
			return err
		}
		if ds == nil {
			if ds, err = cfg.LoadData(ctx, dataDir, "", log); err != nil {
				return err
			}
		}
		split := dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)
		p, err := pipeline.Open(cfg, filepath.Join(models, cfg.Name), ds)
		if err != nil {
			return err
		}
		rec := &recorder{inner: p.Replay(), top: map[stepKey][]int32{}}
		rep, err := replay.Run(ctx, split, rec, replay.Options{ItemIDs: ds.Items.IDs(), Workers: workers, Progress: progress.Options{Disabled: true}})
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.Name, err)
		}
		g := gains{name: cfg.Name}
		hist := map[int32]int{}
		for _, e := range split.Train {
			hist[e.User]++
		}
		var stepUsers []int32
		for _, e := range split.Test {
			n := hist[e.User]
			hist[e.User]++
			if n == 0 {
				continue // no history: replay does not count the step
			}
			top, ok := rec.top[stepKey{e.User, n}]
			if !ok {
				return fmt.Errorf("%s: no answer recorded for user %d at history %d", cfg.Name, e.User, n)
			}
			nd, hit := 0.0, 0.0
			for i, it := range top {
				if it == e.Item {
					nd, hit = 1/math.Log2(float64(i)+2), 1
					break
				}
			}
			g.ndcg, g.hit = append(g.ndcg, nd), append(g.hit, hit)
			stepUsers = append(stepUsers, e.User)
		}
		if users == nil {
			users = stepUsers
		} else if len(users) != len(stepUsers) {
			return fmt.Errorf("%s: %d counted steps, the baseline had %d", cfg.Name, len(stepUsers), len(users))
		}
		// The reconstruction must give replay's own figures, or the pairing is wrong.
		for _, c := range []struct {
			xs  []float64
			key string
		}{{g.ndcg, "ndcg@10"}, {g.hit, "hr@10"}} {
			if m := mean(c.xs); math.Abs(m-rep.Metrics[c.key]) > 1e-9 {
				return fmt.Errorf("%s: per-step %s averages %.6f, replay says %.6f", cfg.Name, c.key, m, rep.Metrics[c.key])
			}
		}
		all = append(all, g)
	}
	fmt.Printf("%d counted steps, %d users; Δ = pipeline − %s, 95%% interval clustered by user\n\n", len(users), countDistinct(users), all[0].name)
	fmt.Println("| pipeline | ndcg@10 | Δ ndcg@10 [95% CI] | hr@10 | Δ hr@10 [95% CI] |")
	fmt.Println("|---|---:|---|---:|---|")
	for _, g := range all {
		if g.name == all[0].name {
			fmt.Printf("| %s (baseline) | %.4f | – | %.4f | – |\n", g.name, mean(g.ndcg), mean(g.hit))
			continue
		}
		dn, ln, hn := clustered(users, g.ndcg, all[0].ndcg)
		dh, lh, hh := clustered(users, g.hit, all[0].hit)
		fmt.Printf("| %s | %.4f | %+.4f [%+.4f, %+.4f] | %.4f | %+.4f [%+.4f, %+.4f] |\n", g.name, mean(g.ndcg), dn, ln, hn, mean(g.hit), dh, lh, hh)
	}
	return nil
}

// clustered is the mean of a − b over steps with its 95% normal interval, the standard error
// taken over users (the cluster-robust estimator with the U/(U−1) correction).
func clustered(users []int32, a, b []float64) (d, lo, hi float64) {
	sum, cnt := map[int32]float64{}, map[int32]float64{}
	total := 0.0
	for i, u := range users {
		sum[u] += a[i] - b[i]
		cnt[u]++
		total += a[i] - b[i]
	}
	n := float64(len(users))
	d = total / n
	ss := 0.0
	for u, s := range sum {
		r := s - d*cnt[u]
		ss += r * r
	}
	k := float64(len(sum))
	if k < 2 {
		return d, math.Inf(-1), math.Inf(1)
	}
	se := math.Sqrt(k/(k-1)*ss) / n
	return d, d - 1.959964*se, d + 1.959964*se
}

func mean(xs []float64) float64 { return stat.Mean(xs, nil) }

func countDistinct(xs []int32) int {
	seen := map[int32]bool{}
	for _, x := range xs {
		seen[x] = true
	}
	return len(seen)
}
