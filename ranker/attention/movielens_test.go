package attention

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates/als"
	"github.com/cascade-rec/cascade/candidates/popularity"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

// sharedDataset locates ../shared/datasets/name beside the repository, or skips.
func sharedDataset(tb testing.TB, name string) string {
	tb.Helper()
	for _, base := range []string{"../../../shared/datasets", "../../shared/datasets"} {
		p := filepath.Join(base, name)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	tb.Skipf("shared dataset %s not found beside the repository (../shared/datasets/%s); skipping", name, name)
	return ""
}

// mlSets are the ranking sets of the MovieLens benchmark (see docs/benchmarks.md).
type mlSets struct {
	train, valid, test *ranker.Set
	numItems           int
	itemInit           []float32 // the validation iALS item factors
	buildSeconds       float64
}

// buildMLSets applies replay-v1's split twice: iALS (and popularity, the fallback and the prior
// feature) fitted on the inner train part proposes 200 candidates at every validation event; those
// requests, split by time 80/20, train and validate the ranker. The test requests are built the
// same way at the test events, from models refit on the whole train split.
func buildMLSets(tb testing.TB, name string, alpha, reg float64, horizon time.Duration) *mlSets {
	tb.Helper()
	ctx := context.Background()
	t0 := time.Now()
	ds, err := dataset.Load(sharedDataset(tb, name), dataset.LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	outer := dataset.TemporalSplit(ds.Events, 0.9)
	inner := dataset.TemporalSplit(outer.Train, 0.9)
	ip := als.DefaultIALSParams()
	ip.Alpha, ip.Reg, ip.Solver = alpha, reg, als.SolverCG
	quiet := progress.Options{Disabled: true}
	// Requests at the events of fit.Test, from models fitted on fit.Train.
	build := func(fit dataset.Split, horizon time.Duration) (*ranker.Set, *als.IALSModel) {
		m, _, err := als.TrainIALS(ctx, fit.Train, fit.TrainUsers, fit.TrainItems, ip, quiet)
		if err != nil {
			tb.Fatal(err)
		}
		pop := popularity.Train(fit.Train, fit.TrainItems, ds.Items.IDs())
		st := sourceStages{source: m, fallback: pop, k: 200, logPrior: pop.LogPrior}
		s, err := ranker.Build(ctx, fit, st, ranker.BuildOptions{Horizon: horizon})
		if err != nil {
			tb.Fatal(err)
		}
		return s, m
	}
	learn, ialsV := build(inner, horizon)
	test, _ := build(outer, 0)
	train, valid := learn.SplitTime(0.8)
	return &mlSets{train: train, valid: valid, test: test, numItems: outer.TrainItems, itemInit: ialsV.ItemFactors(),
		buildSeconds: time.Since(t0).Seconds()}
}

// TestMovieLensRanking trains the attention ranker and its variants on ml-100k and
// ml-latest-small and compares NDCG@10 over the test candidate lists with the candidate stage's
// own order. It takes minutes: it runs only with CASCADE_BENCH=1 (CASCADE_ML=name picks one
// data set) and skips when ../shared is absent.
func TestMovieLensRanking(t *testing.T) {
	if os.Getenv("CASCADE_BENCH") != "1" {
		t.Skip("set CASCADE_BENCH=1 to run the MovieLens ranking benchmark (minutes)")
	}
	ctx := context.Background()
	cases := []struct {
		name       string
		alpha, reg float64
	}{
		{"ml-100k", 1, 10},
		{"ml-latest-small", 1, 1},
	}
	for _, c := range cases {
		if only := os.Getenv("CASCADE_ML"); only != "" && only != c.name {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			horizon := mlHorizon
			if h := os.Getenv("CASCADE_ML_HORIZON"); h != "" {
				var err error
				if horizon, err = time.ParseDuration(h); err != nil {
					t.Fatal(err)
				}
			}
			sets := buildMLSets(t, c.name, c.alpha, c.reg, horizon)
			t.Logf("%s: sets built in %.1f s; ranker train %d requests (%d with a positive), valid %d, test %d (%d with the target among the 200)",
				c.name, sets.buildSeconds, len(sets.train.Requests), sets.train.Stats.WithPositive, len(sets.valid.Requests),
				len(sets.test.Requests), sets.test.Stats.WithTarget)
			base, err := ranker.Evaluate(ctx, sets.test, 10, ranker.SourceOrder)
			if err != nil {
				t.Fatal(err)
			}
			var table strings.Builder
			fmt.Fprintf(&table, "\n| %s | ndcg@10 (all requests) | ndcg@10 (target in list) | hr@10 | × iALS order | epochs (best) | train s | train req/s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", c.name)
			fmt.Fprintf(&table, "| iALS order | %.4f | %.4f | %.4f | 1.00 | | | |\n", base.NDCG, base.NDCGPositive, base.HitRate)
			got := map[string]float64{}
			for _, v := range mlVariants() {
				p := v.params
				m, st, err := Train(ctx, sets.train, sets.valid, sets.numItems, p, TrainOptions{ItemInit: sets.itemInit, Progress: progress.Options{Disabled: true}})
				if err != nil {
					t.Fatal(err)
				}
				met, err := ranker.Evaluate(ctx, sets.test, 10, m.ScoreRequest)
				if err != nil {
					t.Fatal(err)
				}
				got[v.name] = met.NDCG
				fmt.Fprintf(&table, "| %s | %.4f | %.4f | %.4f | %.2f | %d (%d) | %.0f | %.0f |\n", v.name, met.NDCG, met.NDCGPositive, met.HitRate,
					met.NDCG/base.NDCG, st.Epochs, st.BestEpoch, st.Seconds, st.RequestsPerSecond)
				t.Logf("%s: %v; valid %.4v", v.name, met, st.ValidNDCG)
			}
			t.Log(table.String())
			if din := got["din"]; din < 1.15*base.NDCG || din <= got["mean"] {
				t.Errorf("din ndcg@10 %.4f: want ≥ 1.15 × the iALS order's %.4f and above mean pooling's %.4f", din, base.NDCG, got["mean"])
			}
		})
	}
}

// mlHorizon labels, in the ranker's training requests, what the user takes within this time
// after the target as positive too (the test requests label the target only, as replay does).
const mlHorizon time.Duration = 0

type mlVariant struct {
	name   string
	params Params
}

// mlVariants are the models of the benchmark table: the default DIN and its ablations, all with
// the validation iALS item factors as a frozen item table (a trained table overfits these small
// logs; the "items trained" row shows by how much). For experiments, CASCADE_ATT_VARIANTS
// replaces them with a JSON list of {"name": …, "params": {…}}, each params object overriding
// DefaultParams (Go field names, e.g. {"LearningRate": 3e-4}).
func mlVariants() []mlVariant {
	if js := os.Getenv("CASCADE_ATT_VARIANTS"); js != "" {
		var raw []struct {
			Name   string
			Params json.RawMessage
		}
		if err := json.Unmarshal([]byte(js), &raw); err != nil {
			panic(fmt.Sprintf("CASCADE_ATT_VARIANTS: %v", err))
		}
		var out []mlVariant
		for _, r := range raw {
			p := DefaultParams()
			if len(r.Params) > 0 {
				if err := json.Unmarshal(r.Params, &p); err != nil {
					panic(fmt.Sprintf("CASCADE_ATT_VARIANTS %s: %v", r.Name, err))
				}
			}
			out = append(out, mlVariant{r.Name, p})
		}
		return out
	}
	din := DefaultParams()
	din.FreezeItems = true
	soft := din
	soft.Softmax = true
	norec := din
	norec.Recency = false
	trained := din
	trained.FreezeItems = false
	dot := din
	dot.Attention = AttentionDot
	mean := din
	mean.Attention = AttentionMean
	return []mlVariant{
		{"din", din}, {"din, softmax weights", soft}, {"din, no recency bias", norec}, {"din, items trained", trained},
		{"dot", dot}, {"mean (DIN-less ablation)", mean},
	}
}
