package replay

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/popularity"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/synth"
)

// world is synth.Small's log, split as replay-v1 splits it, with popularity as the recommender.
var world = sync.OnceValues(func() (*generated, error) {
	c := synth.Small(1)
	c.Impressions = 0
	w, err := synth.Generate(context.Background(), c)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "replay-world")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir) // Load reads the files whole
	if err := w.WriteDir(dir); err != nil {
		return nil, err
	}
	ds, err := dataset.Load(dir, dataset.LoadOptions{})
	if err != nil {
		return nil, err
	}
	split := dataset.TemporalSplit(ds.Events, 0.9)
	pop := popularity.Train(split.Train, split.TrainItems, ds.Items.IDs()[:split.TrainItems])
	return &generated{split: split, ids: ds.Items.IDs(), rec: Source("popularity", pop, 500)}, nil
})

type generated struct {
	split dataset.Split
	ids   []string
	rec   Recommender
}

func (g *generated) run(t *testing.T, sample int, seed uint64, workers int) *Report {
	t.Helper()
	rep, err := Run(context.Background(), g.split, g.rec, Options{ItemIDs: g.ids, Workers: workers, Sample: sample, Seed: seed, Progress: progress.Options{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func generatedWorld(t *testing.T) *generated {
	t.Helper()
	g, err := world()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestSampleIntervalsCoverFullReplay: over 20 seeds, the 95% interval of every mean figure of a
// sampled replay holds the full replay's value in at least 80% of them, and coverage@10's bound
// holds it always.
func TestSampleIntervalsCoverFullReplay(t *testing.T) {
	g := generatedWorld(t)
	full := g.run(t, 0, 0, 0)
	const seeds, sample = 20, 400
	hits := map[string]int{}
	check := func(key string, v float64, iv [2]float64, ok bool) {
		if !ok {
			t.Fatalf("%s: no interval", key)
		}
		if iv[0] <= v+1e-12 && v <= iv[1]+1e-12 {
			hits[key]++
		}
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		rep := g.run(t, sample, seed, 0)
		if rep.Sample == nil || rep.Sample.Steps != sample || rep.Sample.Of != full.WarmSteps+full.ColdSteps {
			t.Fatalf("sample info %+v", rep.Sample)
		}
		for k, v := range full.Metrics {
			iv, ok := rep.CI.Metrics[k]
			check(k, v, iv, ok)
		}
		for _, s := range []string{"warm", "cold"} {
			iv, ok := rep.CI.Slices[s]["ndcg@10"]
			check(s+" ndcg@10", full.Slices[s]["ndcg@10"], iv, ok)
		}
		for k, v := range full.Stages["popularity"] {
			iv, ok := rep.CI.Stages["popularity"][k]
			check("popularity "+k, v, iv, ok)
		}
	}
	for k, n := range hits {
		min := seeds * 8 / 10
		if k == "coverage@10" {
			min = seeds // a bound, not an estimate
		}
		if n < min {
			t.Errorf("%s: the interval held the full replay's value for %d of %d seeds, want ≥ %d", k, n, seeds, min)
		}
	}
	if len(hits) < len(full.Metrics) {
		t.Errorf("only %d figures ever covered: %v", len(hits), hits)
	}
}

// TestSampleDeterministic: a seed draws the same steps whatever the workers; another seed others.
func TestSampleDeterministic(t *testing.T) {
	g := generatedWorld(t)
	a, b := g.run(t, 300, 7, 1), g.run(t, 300, 7, 3)
	if !reflect.DeepEqual(a.Metrics, b.Metrics) || !reflect.DeepEqual(a.CI.Metrics, b.CI.Metrics) || !reflect.DeepEqual(a.Stages, b.Stages) {
		t.Fatalf("seed 7 differs across workers:\n%v\n%v", a.Metrics, b.Metrics)
	}
	if c := g.run(t, 300, 8, 1); reflect.DeepEqual(a.Metrics, c.Metrics) {
		t.Errorf("seeds 7 and 8 gave the same figures: %v", a.Metrics)
	}
}

// TestSampleOfEverything: a sample at least as large as the log is the full replay, and every
// mean's interval is its point.
func TestSampleOfEverything(t *testing.T) {
	g := generatedWorld(t)
	full := g.run(t, 0, 0, 0)
	all := g.run(t, 1<<30, 3, 0)
	if !reflect.DeepEqual(full.Metrics, all.Metrics) || !reflect.DeepEqual(full.Slices, all.Slices) || !reflect.DeepEqual(full.Stages, all.Stages) {
		t.Fatalf("sample of every step differs from the full replay:\n%v\n%v", full.Metrics, all.Metrics)
	}
	if full.CI != nil || full.Sample != nil {
		t.Errorf("an unsampled replay carries intervals")
	}
	for k, iv := range all.CI.LatencyMS {
		if iv[0] != iv[1] {
			t.Errorf("latency %s: interval %v from a sample of every step", k, iv)
		}
	}
	for k, iv := range all.CI.Metrics {
		if iv[0] != iv[1] || iv[0] != full.Metrics[k] {
			t.Errorf("%s: interval %v around %v", k, iv, full.Metrics[k])
		}
	}
	counts := func(r *Report) [7]int {
		return [7]int{r.TestSteps, r.NoHistorySteps, r.WarmSteps, r.ColdSteps, r.Users, r.WarmUsers, r.TrainEvents}
	}
	if part := g.run(t, 50, 1, 0); counts(part) != counts(full) {
		t.Errorf("a sample's counts %v, the log's %v", counts(part), counts(full))
	}
}

func TestSampleRefusesNegative(t *testing.T) {
	_, err := Run(context.Background(), tiny(), Source("fixed", fixed{order: []int32{0, 1}}, 10), Options{Sample: -1, Progress: progress.Options{Disabled: true}})
	if err == nil || !strings.Contains(err.Error(), "sample size must be positive") {
		t.Fatalf("err = %v", err)
	}
}

// TestSampledTable: a sampled report's cells carry their interval; an unsampled table has no
// sample row.
func TestSampledTable(t *testing.T) {
	g := generatedWorld(t)
	var full, part bytes.Buffer
	if err := WriteTable(&full, []string{"p"}, []*Report{g.run(t, 0, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := WriteTable(&part, []string{"p"}, []*Report{g.run(t, 200, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(full.String(), "sampled") || strings.Contains(full.String(), "[") {
		t.Errorf("unsampled table:\n%s", full.String())
	}
	for _, want := range []string{"sampled steps", "200 of ", "(seed 1, 95% CI)"} {
		if !strings.Contains(part.String(), want) {
			t.Errorf("sampled table lacks %q:\n%s", want, part.String())
		}
	}
	for _, line := range strings.Split(part.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "ndcg@10") && !strings.Contains(line, "[") {
			t.Errorf("ndcg@10 row without interval: %q", line)
		}
	}
}

// timedSometimes times its stage only at steps whose history length is even (as a pipeline does
// not time the stages its fallback skipped).
type timedSometimes struct{ Recommender }

func (r timedSometimes) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (Response, error) {
	resp, err := r.Recommender.Recommend(ctx, q, skip)
	if len(q.History)%2 == 0 {
		for i := range resp.Stages {
			resp.Stages[i].Duration = time.Duration(len(q.History)) * time.Microsecond
		}
	}
	return resp, err
}

// TestSampleOfEverythingStageLatency: a stage timed at only some steps still gets point intervals
// from a sample of every step, and proper ones from a part.
func TestSampleOfEverythingStageLatency(t *testing.T) {
	g := generatedWorld(t)
	run := func(n int) *Report {
		rep, err := Run(context.Background(), g.split, timedSometimes{g.rec}, Options{Sample: n, Seed: 1, Progress: progress.Options{Disabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	all, part := run(1<<30), run(300)
	for q, iv := range all.CI.StageLatencyMS["popularity"] {
		if v := all.StageLatencyMS["popularity"][q]; iv[0] != iv[1] || iv[0] != v {
			t.Errorf("%s: interval %v around %v from every step", q, iv, v)
		}
	}
	if iv := part.CI.StageLatencyMS["popularity"]["p50"]; !(iv[0] < iv[1]) {
		t.Errorf("p50 interval %v from 300 steps", iv)
	}
}
