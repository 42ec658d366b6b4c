package imported_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/imported"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/replay"
)

// The generated world of testdata/world, with factors "trained elsewhere" for it: a Spark model
// whose integer IDs are a shuffled labelling of the world's IDs (as a StringIndexer makes them),
// and the same vectors as .npy matrices in another row order. Two world items and two users have
// no vector; three items and one user of the files are not in the world.
type worldFixture struct {
	ds           *dataset.Dataset
	dir          string
	items, users vectors // by external ID
	k            int
}

func newWorldFixture(t testing.TB) *worldFixture {
	t.Helper()
	ds, err := dataset.Load("../../testdata/world", dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := &worldFixture{ds: ds, dir: t.TempDir(), k: 8}
	rng := rand.New(rand.NewPCG(12, 5))
	without := func(ids []string, drop ...string) []string {
		return slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return slices.Contains(drop, s) })
	}
	itemIDs := append(without(ds.Items.IDs(), "i5", "i17"), "x1", "x2", "x3")
	userIDs := append(without(ds.Users.IDs(), "u3", "u8"), "nobody")
	rng.Shuffle(len(itemIDs), func(i, j int) { itemIDs[i], itemIDs[j] = itemIDs[j], itemIDs[i] })
	rng.Shuffle(len(userIDs), func(i, j int) { userIDs[i], userIDs[j] = userIDs[j], userIDs[i] })
	f.items, f.users = randomVectors(rng, itemIDs, f.k), randomVectors(rng, userIDs, f.k)

	// Spark: integer n is line n of the label files.
	spark := func(v vectors) vectors {
		out := vectors{vecs: v.vecs}
		for n := range v.ids {
			out.ids = append(out.ids, strconv.Itoa(n))
		}
		return out
	}
	writeSparkModel(t, f.path("als-model"), f.k, spark(f.users), spark(f.items))
	writeIDs(t, f.path("item_labels.txt"), f.items.ids)
	writeIDs(t, f.path("user_labels.txt"), f.users.ids)

	// NumPy: the rows reversed, float64 items and float32 users.
	rev := func(v vectors) vectors {
		out := vectors{ids: slices.Clone(v.ids), vecs: slices.Clone(v.vecs)}
		slices.Reverse(out.ids)
		slices.Reverse(out.vecs)
		return out
	}
	ri, ru := rev(f.items), rev(f.users)
	writeNPY64(t, f.path("item_emb.npy"), ri.vecs)
	writeIDs(t, f.path("item_ids.txt"), ri.ids)
	writeNPY32(t, f.path("user_emb.npy"), ru.vecs)
	writeIDs(t, f.path("user_ids.txt"), ru.ids)
	return f
}

func (f *worldFixture) path(name string) string { return filepath.Join(f.dir, name) }

// oracle returns the fixture's vectors by the dense IDs of a window.
func (f *worldFixture) oracle(numItems, numUsers int) *oracle {
	o := &oracle{k: f.k, items: make([][]float32, numItems), users: make([][]float32, numUsers), allItems: f.items.vecs}
	for i := range o.items {
		o.items[i] = f.items.lookup(f.ds.Items.String(int32(i)))
	}
	for u := range o.users {
		o.users[u] = f.users.lookup(f.ds.Users.String(int32(u)))
	}
	return o
}

const worldPipeline = `name: imported-%s
models:
  ext:
    type: imported
    params: {%s}
  pop: {type: popularity}
retrieve:
  sources: [{model: ext, k: 30}]
%s
final: {k: 10}
`

func (f *worldFixture) config(t testing.TB, name, params, extra string) *pipeline.Config {
	t.Helper()
	src := fmt.Sprintf(worldPipeline, name, params, extra)
	cfg, err := pipeline.ParseConfig(name+".yaml", []byte(src))
	if err != nil {
		t.Fatalf("%s\n%v", src, err)
	}
	return cfg
}

func (f *worldFixture) train(t testing.TB, cfg *pipeline.Config) (*pipeline.Pipeline, *pipeline.Manifest) {
	t.Helper()
	bundle := filepath.Join(t.TempDir(), "bundle")
	quiet := pipeline.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Progress: progress.Options{Disabled: true}}
	man, err := pipeline.Train(context.Background(), cfg, f.ds, bundle, quiet)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.Open(cfg, bundle, f.ds)
	if err != nil {
		t.Fatal(err)
	}
	return p, man
}

// oracleReplay checks every replay step against the oracle on its way through.
type oracleReplay struct {
	t        testing.TB
	rec      replay.Recommender
	o        *oracle
	foldIn   bool
	fold     func(history []int32, values []float32) []float64
	n        int
	compared atomic.Int64
	vector   atomic.Int64 // steps served by an imported user vector
	fallback atomic.Int64
	failed   atomic.Int64
}

func (r *oracleReplay) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (replay.Response, error) {
	resp, err := r.rec.Recommend(ctx, q, skip)
	if err != nil {
		return resp, err
	}
	known := slices.ContainsFunc(q.History, func(it int32) bool { return int(it) < len(r.o.items) })
	if !known {
		r.fallback.Add(1) // the pipeline's fallback answers: not the imported model's
		return resp, nil
	}
	var user []float64
	if q.User >= 0 && int(q.User) < len(r.o.users) && r.o.users[q.User] != nil && !r.foldIn {
		user = to64(r.o.users[q.User])
		r.vector.Add(1)
	} else {
		user = r.fold(q.History, q.HistoryValues)
	}
	if user == nil {
		r.t.Errorf("user %d: the oracle has no vector for history %v", q.User, q.History)
		return resp, nil
	}
	excluded := func(it int32) bool { return skip(it) || slices.Contains(q.History, it) }
	want := r.o.top(user, r.n, excluded)
	what := fmt.Sprintf("user %d at %d (history of %d)", q.User, q.Time, len(q.History))
	if r.failed.Load() < 3 && !r.o.checkList(r.t, what, user, resp.Items, want, excluded) {
		r.failed.Add(1)
	}
	r.compared.Add(1)
	return resp, nil
}

// Train a pipeline whose only source is the imported model on the world, then replay the test
// split through it: at every step the served list equals the oracle's top 10 computed from the
// fixture's vectors (imported for known users, folded in for the others).
func TestWorldReplayMatchesOracle(t *testing.T) {
	f := newWorldFixture(t)
	spark := fmt.Sprintf("format: spark-als, path: %s, item_ids: %s, user_ids: %s", f.path("als-model"), f.path("item_labels.txt"), f.path("user_labels.txt"))
	npy := fmt.Sprintf("format: npy, items: %s, item_ids: %s, users: %s, user_ids: %s", f.path("item_emb.npy"), f.path("item_ids.txt"), f.path("user_emb.npy"), f.path("user_ids.txt"))
	for _, tc := range []struct {
		name   string
		params string
		foldIn bool
		fold   func(o *oracle) func([]int32, []float32) []float64
	}{
		{"spark-als", spark + ", reg: 0.05, alpha: 2", false, func(o *oracle) func([]int32, []float32) []float64 {
			return func(h []int32, v []float32) []float64 { return o.foldALS(h, v, true, 2, 0.05) }
		}},
		{"spark-als fold_in", spark + ", fold_in: true, reg: 0.1", true, func(o *oracle) func([]int32, []float32) []float64 {
			return func(h []int32, v []float32) []float64 { return o.foldALS(h, v, true, 1, 0.1) }
		}},
		{"spark-als explicit fold_in", spark + ", fold_in: true, implicit: false, reg: 0.2", true, func(o *oracle) func([]int32, []float32) []float64 {
			return func(h []int32, v []float32) []float64 { return o.foldALS(h, v, false, 0, 0.2) }
		}},
		{"npy", npy, false, func(o *oracle) func([]int32, []float32) []float64 {
			return func(h []int32, _ []float32) []float64 { return o.foldMean(h) }
		}},
		{"npy fold_in", npy + ", fold_in: true", true, func(o *oracle) func([]int32, []float32) []float64 {
			return func(h []int32, _ []float32) []float64 { return o.foldMean(h) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := f.config(t, strings.ReplaceAll(tc.name, " ", "-"), tc.params, "")
			p, man := f.train(t, cfg)
			split := dataset.TemporalSplit(f.ds.Events, cfg.Split.TrainFraction)
			if man.Models["ext"].Type != "imported" || man.Models["ext"].Info == nil {
				t.Fatalf("manifest entry %+v", man.Models["ext"])
			}
			o := f.oracle(split.TrainItems, split.TrainUsers)
			rec := &oracleReplay{t: t, rec: p.Replay(), o: o, foldIn: tc.foldIn, fold: tc.fold(o), n: 10}
			rep, err := replay.Run(context.Background(), split, rec, replay.Options{Dataset: "world", Workers: 2, Progress: progress.Options{Disabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d steps compared with the oracle (%d by an imported user vector), %d answered by the fallback; ndcg@10 %.4f",
				rec.compared.Load(), rec.vector.Load(), rec.fallback.Load(), rep.Metrics["ndcg@10"])
			if rec.compared.Load() < 100 || (!tc.foldIn && rec.vector.Load() < 20) {
				t.Fatalf("only %d steps compared, %d by an imported user vector", rec.compared.Load(), rec.vector.Load())
			}
		})
	}
}

// The imported model feeds the feature stage: its score_<model> feature is the inner product
// the oracle computes, and a LightGBM ranker trains on it.
func TestWorldImportedFeature(t *testing.T) {
	f := newWorldFixture(t)
	params := fmt.Sprintf("format: npy, items: %s, item_ids: %s", f.path("item_emb.npy"), f.path("item_ids.txt"))
	cfg := f.config(t, "features", params, `features: {}
rankers:
  - {name: lgbm, type: lightgbm, params: {trees: 5, min_data_in_leaf: 5}}
ranking_data: {max_requests: 200, negatives: 10}`)
	p, _ := f.train(t, cfg)
	col := slices.Index(p.FeatureNames(), "score_ext")
	if col < 0 {
		t.Fatalf("features %v have no score_ext", p.FeatureNames())
	}
	split := dataset.TemporalSplit(f.ds.Events, cfg.Split.TrainFraction)
	o := f.oracle(split.TrainItems, split.TrainUsers)
	history := []int32{0, 1, 2, 3, 7}
	res, err := p.RecommendDense(context.Background(), pipeline.Query{Query: candidates.Query{User: -1, History: history, Time: split.Cut}, K: 10, Explain: true})
	if err != nil || res.Fallback || res.Explain == nil || len(res.Explain.Items) == 0 {
		t.Fatalf("result %+v, %v", res, err)
	}
	user := o.foldMean(history)
	for _, it := range res.Explain.Items {
		want, ok := o.score(user, it.Item)
		got := float64(it.Features[col])
		if !ok {
			if !math.IsNaN(got) {
				t.Errorf("item %d has no vector and score_ext %v", it.Item, got)
			}
			continue
		}
		if math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
			t.Errorf("item %d: score_ext %v, oracle %v", it.Item, got, want)
		}
	}
}

// A bad file fails training with the file and field named.
func TestWorldBadFile(t *testing.T) {
	f := newWorldFixture(t)
	writeIDs(t, f.path("short_ids.txt"), f.items.ids[:10])
	params := fmt.Sprintf("format: npy, items: %s, item_ids: %s", f.path("item_emb.npy"), f.path("short_ids.txt"))
	cfg := f.config(t, "bad", params, "")
	_, err := pipeline.Train(context.Background(), cfg, f.ds, t.TempDir(), pipeline.Options{Logger: slog.New(slog.DiscardHandler), Progress: progress.Options{Disabled: true}})
	if err == nil || !strings.Contains(err.Error(), "item_ids "+f.path("short_ids.txt")+": has 10 IDs, and items") {
		t.Fatalf("error %v", err)
	}
}

// A file's parameters are checked when the pipeline file is read, at their key.
func TestPipelineFileParams(t *testing.T) {
	for _, tc := range []struct{ params, want string }{
		{"format: parquet", `models.ext.params.format: must be spark-als or npy, got "parquet"`},
		{"path: /x", "models.ext.params.format: is required"},
		{"format: npy, items: a.npy", "models.ext.params.item_ids: format npy needs the item IDs file"},
		{"format: spark-als, path: /x, items: a.npy", "models.ext.params.items: only format npy reads .npy matrices"},
		{"format: spark-als, path: /x, reg: 0", "models.ext.params.reg: must be a finite number > 0"},
		{"format: spark-als, path: /x, fold: median", `models.ext.params.fold: must be als or mean, got "median"`},
		{"format: spark-als, path: /x, folds: mean", `models.ext.params.folds: unknown parameter`},
		{"format: npy, items: a.npy, item_ids: a.txt, users: u.npy", "models.ext.params.user_ids: users needs user_ids"},
		{"format: npy, items: a.npy, item_ids: a.txt, history_len: -1", "models.ext.params.history_len: must be in [0, 1048576]"},
		{"format: npy, items: a.npy, item_ids: a.txt, alpha: [1, -2]", "models.ext.params.alpha[1]: must be a finite number ≥ 0"},
	} {
		src := fmt.Sprintf(worldPipeline, "p", tc.params, "")
		_, err := pipeline.ParseConfig("p.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("params {%s}: error %v, want %q", tc.params, err, tc.want)
		}
	}
}

// The model cache keys an imported model by its files' sizes and modification times too: the
// same files are imported once, a re-export under the same path is imported again.
func TestWorldCacheSeesReexport(t *testing.T) {
	f := newWorldFixture(t)
	params := fmt.Sprintf("format: npy, items: %s, item_ids: %s", f.path("item_emb.npy"), f.path("item_ids.txt"))
	cfg := f.config(t, "cache", params, "")
	cache, err := pipeline.OpenModelCache(filepath.Join(t.TempDir(), "cache"))
	if err != nil {
		t.Fatal(err)
	}
	run := func() *pipeline.ModelEntry {
		opt := pipeline.Options{Logger: slog.New(slog.DiscardHandler), Progress: progress.Options{Disabled: true}, Cache: cache}
		man, err := pipeline.Train(context.Background(), cfg, f.ds, t.TempDir(), opt)
		if err != nil {
			t.Fatal(err)
		}
		return man.Models["ext"]
	}
	if e := run(); e.Cached {
		t.Fatal("first import came from the cache")
	}
	first := run()
	if !first.Cached {
		t.Fatal("the same files were imported again")
	}
	vecs := append(slices.Clone(f.items.vecs[1:]), f.items.vecs[0]) // other vectors for the same IDs
	writeNPY64(t, f.path("item_emb.npy"), vecs)
	later := time.Now().Add(time.Hour)
	os.Chtimes(f.path("item_emb.npy"), later, later)
	if e := run(); e.Cached || e.SHA256 == first.SHA256 {
		t.Fatalf("a re-exported file was served from the cache (cached %v, same artifact %v)", e.Cached, e.SHA256 == first.SHA256)
	}
}

// Serving parameters form a grid without reading the files again per value: every combination is
// replayed on the validation split and the choice recorded.
func TestWorldServingGrid(t *testing.T) {
	f := newWorldFixture(t)
	params := fmt.Sprintf("format: spark-als, path: %s, item_ids: %s, user_ids: %s, reg: [0.01, 1], fold_in: [false, true]",
		f.path("als-model"), f.path("item_labels.txt"), f.path("user_labels.txt"))
	cfg := f.config(t, "grid", params, "")
	_, man := f.train(t, cfg)
	e := man.Models["ext"]
	if len(e.Trials) != 4 || e.Chosen == nil {
		t.Fatalf("trials %+v, chosen %v", e.Trials, e.Chosen)
	}
	// The bundle's model serves with the chosen values.
	if got := e.Params.(*imported.Params); fmt.Sprint(got.Reg) != fmt.Sprint(e.Chosen["reg"]) || fmt.Sprint(got.FoldIn) != fmt.Sprint(e.Chosen["fold_in"]) {
		t.Fatalf("bundle params %+v, chosen %v", got, e.Chosen)
	}
}
