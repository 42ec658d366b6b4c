package attention

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

// quickModel trains a small model for one epoch on a third of the synthetic training set.
func quickModel(t *testing.T, attention string) (*Model, *worldSets) {
	t.Helper()
	ws := syntheticSets(t)
	p := smallParams()
	p.Attention, p.Epochs = attention, 1
	third := ws.train.Filter(func(r *ranker.Request) bool { return r.Time%3 == 0 })
	m, _, err := Train(context.Background(), third, nil, ws.numItems, p, TrainOptions{Progress: progress.Options{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	return m, ws
}

func scoreAll(t *testing.T, m *Model, s *ranker.Set) [][]float32 {
	t.Helper()
	out := make([][]float32, len(s.Requests))
	for k := range s.Requests {
		r := &s.Requests[k]
		out[k] = make([]float32, len(r.Items))
		if err := m.ScoreRequest(context.Background(), r, out[k]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, att := range []string{AttentionDIN, AttentionDot, AttentionMean} {
		m, ws := quickModel(t, att)
		path := filepath.Join(t.TempDir(), "ranker.model")
		if _, err := m.Save(path); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Params(), m.Params()) || !reflect.DeepEqual(got.FeatureNames(), m.FeatureNames()) || got.NumItems() != m.NumItems() {
			t.Fatalf("%s: loaded params %+v features %v", att, got.Params(), got.FeatureNames())
		}
		gm, gs := got.Standardization()
		wm, wsd := m.Standardization()
		if !reflect.DeepEqual(gm, wm) || !reflect.DeepEqual(gs, wsd) {
			t.Fatalf("%s: standardisation differs", att)
		}
		test := ws.test.Filter(func(r *ranker.Request) bool { return r.Time%3 == 0 })
		if !reflect.DeepEqual(scoreAll(t, got, test), scoreAll(t, m, test)) {
			t.Fatalf("%s: a loaded model scores differently", att)
		}
	}
}

func TestLoadRefusesCorruptFiles(t *testing.T) {
	m, _ := quickModel(t, AttentionDIN)
	dir := t.TempDir()
	path := filepath.Join(dir, "ranker.model")
	if _, err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func([]byte) []byte{
		"flipped byte": func(b []byte) []byte { b[len(b)/2] ^= 1; return b },
		"truncated":    func(b []byte) []byte { return b[:len(b)-100] },
	} {
		bad := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		if err := os.WriteFile(bad, mutate(append([]byte(nil), data...)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(bad); !errors.Is(err, artifact.ErrCorrupt) {
			t.Errorf("%s: error %v, want one wrapping artifact.ErrCorrupt", name, err)
		}
	}
	// A valid container of another kind.
	other := filepath.Join(dir, "other")
	if _, err := artifact.WriteFile(other, artifact.Header{Kind: "ials", Version: 1}, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(other); !errors.Is(err, artifact.ErrCorrupt) {
		t.Errorf("foreign kind: error %v", err)
	}
	// A well-framed payload that does not describe a model.
	var e artifact.Encoder
	e.String(`{"Attention":"din"}`)
	junk := filepath.Join(dir, "junk")
	if _, err := artifact.WriteFile(junk, artifact.Header{Kind: format.Kind, Version: 1}, e.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(junk); !errors.Is(err, artifact.ErrCorrupt) {
		t.Errorf("junk payload: error %v", err)
	}
}

func TestScoreConcurrent(t *testing.T) {
	m, ws := quickModel(t, AttentionDIN)
	test := ws.test.Filter(func(r *ranker.Request) bool { return r.Time%4 == 0 })
	want := scoreAll(t, m, test)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for k := range test.Requests {
				k = (k + g*7) % len(test.Requests)
				r := &test.Requests[k]
				dst := make([]float32, len(r.Items))
				if err := m.ScoreRequest(context.Background(), r, dst); err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(dst, want[k]) {
					errs <- errors.New("concurrent scores differ from sequential ones")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestScoreZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, att := range []string{AttentionDIN, AttentionDot, AttentionMean} {
		m, hist, cands, dense := benchModel(t, att)
		dst := make([]float32, len(cands))
		ctx := context.Background()
		if err := m.Score(ctx, hist, cands, dense, dst); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(50, func() {
			if err := m.Score(ctx, hist, cands, dense, dst); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per Score", att, n)
		}
	}
}

func TestScoreEdgeCases(t *testing.T) {
	m, hist, cands, dense := benchModel(t, AttentionDIN)
	ctx := context.Background()
	dst := make([]float32, len(cands))
	if err := m.Score(ctx, hist, cands, dense[:5], dst); err == nil || !strings.Contains(err.Error(), "dense") {
		t.Errorf("short dense: %v", err)
	}
	if err := m.Score(ctx, hist, cands, dense, dst[:3]); err == nil {
		t.Error("short dst: no error")
	}
	if err := m.Score(ctx, hist, nil, nil, nil); err != nil {
		t.Errorf("no candidates: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := m.Score(cctx, hist, cands, dense, dst); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// No history, unknown history and candidate IDs, NaN features: finite scores.
	dense[0] = float32(math.NaN())
	for _, h := range [][]int32{nil, {-1, 1 << 30}} {
		c := append([]int32{1 << 30, -5}, cands[2:]...)
		if err := m.Score(ctx, h, c, dense, dst); err != nil {
			t.Fatal(err)
		}
		for i, v := range dst {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("history %v: score %d is %v", h, i, v)
			}
		}
	}
	// A candidate's score does not depend on the others in the list.
	rng := rand.New(rand.NewPCG(3, 3))
	one := make([]float32, 1)
	for range 5 {
		i := rng.IntN(len(cands))
		if err := m.Score(ctx, hist, cands[i:i+1], dense[i*4:(i+1)*4], one); err != nil {
			t.Fatal(err)
		}
		if err := m.Score(ctx, hist, cands, dense, dst); err != nil {
			t.Fatal(err)
		}
		if math.Abs(float64(one[0]-dst[i])) > 1e-5*(1+math.Abs(float64(dst[i]))) {
			t.Fatalf("candidate %d: %v alone, %v in the list", i, one[0], dst[i])
		}
	}
}

func TestCheckFeatures(t *testing.T) {
	m, _, _, _ := benchModel(t, AttentionMean)
	if err := m.CheckFeatures([]string{"f0", "f1", "f2", "f3"}); err != nil {
		t.Fatal(err)
	}
	err := m.CheckFeatures([]string{"f0", "f2", "f3", "extra"})
	if err == nil || !strings.Contains(err.Error(), "missing f1") || !strings.Contains(err.Error(), "extra extra") {
		t.Fatalf("error %v", err)
	}
	s := &ranker.Set{FeatureNames: []string{"f1", "f0", "f2", "f3"}}
	if _, err := m.Scorer(s); err == nil || !strings.Contains(err.Error(), "order") {
		t.Fatalf("misordered schema: %v", err)
	}
}

func TestTrainDeterministic(t *testing.T) {
	ws := syntheticSets(t)
	small := ws.train.Filter(func(r *ranker.Request) bool { return r.Time%2 == 0 })
	var models []*Model
	for _, workers := range []int{1, 3} {
		p := smallParams()
		p.Epochs, p.Workers, p.TrainCandidates = 1, workers, 20
		m, _, err := Train(context.Background(), small, nil, ws.numItems, p, TrainOptions{Progress: progress.Options{Disabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	a, b := models[0].net.params(), models[1].net.params()
	for i := range a {
		if !reflect.DeepEqual(a[i].W, b[i].W) {
			t.Fatalf("%s differs between 1 and 3 workers", a[i].Name)
		}
	}
}

func TestTrainErrors(t *testing.T) {
	ws := syntheticSets(t)
	ctx := context.Background()
	p := smallParams()
	p.Loss = "hinge"
	if _, _, err := Train(ctx, ws.train, nil, ws.numItems, p, TrainOptions{}); err == nil || !strings.Contains(err.Error(), "loss") {
		t.Errorf("bad loss: %v", err)
	}
	empty := ws.train.Filter(func(*ranker.Request) bool { return false })
	if _, _, err := Train(ctx, empty, nil, ws.numItems, smallParams(), TrainOptions{}); err == nil {
		t.Error("empty set: no error")
	}
	if _, _, err := Train(ctx, ws.train, nil, ws.numItems, smallParams(), TrainOptions{ItemInit: make([]float32, 7)}); err == nil {
		t.Error("ragged ItemInit: no error")
	}
	other := &ranker.Set{FeatureNames: []string{"x"}}
	if _, _, err := Train(ctx, ws.train, other, ws.numItems, smallParams(), TrainOptions{}); err == nil {
		t.Error("validation schema mismatch: no error")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := Train(cctx, ws.train, nil, ws.numItems, smallParams(), TrainOptions{Progress: progress.Options{Disabled: true}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
