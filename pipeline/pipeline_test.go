package pipeline

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/replay"
	"github.com/cascade-rec/cascade/synth"
)

// smallWorld generates the synthetic test world once per test binary.
var smallWorld = sync.OnceValues(func() (*dataset.Dataset, error) {
	// Larger than synth.Small so that popularity is not the whole story.
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Impressions = 1, 0
	cfg.Users, cfg.Items, cfg.Events = 1500, 3000, 100_000
	dir, _, err := generateWorld(cfg)
	if err != nil {
		return nil, err
	}
	return dataset.Load(dir, dataset.LoadOptions{})
})

// generateWorld writes the world of cfg into a new temporary directory.
func generateWorld(cfg synth.Config) (string, *synth.World, error) {
	dir, err := os.MkdirTemp("", "cascade-pipeline-test-")
	if err != nil {
		return "", nil, err
	}
	w, err := synth.Generate(context.Background(), cfg)
	if err != nil {
		return "", nil, err
	}
	return dir, w, w.WriteDir(dir)
}

func world(t *testing.T) *dataset.Dataset {
	t.Helper()
	ds, err := smallWorld()
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

const testPipeline = `name: %s
models:
  pop:
    type: popularity
  ials:
    type: ials
    params:
      factors: 16
      alpha: [1, 16]
      reg: [1, 30]
      iterations: 8
      solver: cg
retrieve:
  sources:
    - {model: %s, k: 200}
final: {k: 50}
`

func trainAndReplay(t *testing.T, ds *dataset.Dataset, source string) (*replay.Report, *Manifest, string) {
	t.Helper()
	cfg, err := ParseConfig("test.yaml", []byte(strings.ReplaceAll(strings.Replace(testPipeline, "%s", source, 1), "%s", source)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opt := Options{Progress: progress.Options{Disabled: true}, Logger: quiet}
	man, err := Train(context.Background(), cfg, ds, dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := openAndReplay(t, cfg, dir, ds, replay.Options{})
	return rep, man, dir
}

// openAndReplay opens the bundle in dir with cfg and replays the replay-v1 test split of ds
// through it with opt (item IDs and silence added).
func openAndReplay(t *testing.T, cfg *Config, dir string, ds *dataset.Dataset, opt replay.Options) (*replay.Report, *Pipeline) {
	t.Helper()
	p, err := Open(cfg, dir, ds)
	if err != nil {
		t.Fatal(err)
	}
	opt.ItemIDs, opt.Progress = ds.Items.IDs(), progress.Options{Disabled: true}
	rep, err := replay.Run(context.Background(), dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction), p.Replay(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep, p
}

func TestTrainReplayIALSBeatsPopularity(t *testing.T) {
	ds := world(t)
	pop, _, _ := trainAndReplay(t, ds, "pop")
	ials, man, _ := trainAndReplay(t, ds, "ials")
	t.Logf("hr@10 popularity %.4f, ials %.4f", pop.Metrics["hr@10"], ials.Metrics["hr@10"])
	if ials.Metrics["hr@10"] < 2*pop.Metrics["hr@10"] {
		t.Fatalf("ials hr@10 %.4f < 2 × popularity %.4f", ials.Metrics["hr@10"], pop.Metrics["hr@10"])
	}
	e := man.Models["ials"]
	if len(e.Trials) != 4 || e.Chosen == nil || len(e.SHA256) != 64 || e.DataSpan.Events != man.Split.TrainEvents {
		t.Fatalf("manifest entry %+v", e)
	}
	if _, ok := ials.Stages["ials"]["recall@200"]; !ok {
		t.Fatalf("stages %v", ials.Stages)
	}
}

func TestOpenRefusesDamagedOrForeignBundles(t *testing.T) {
	ds := world(t)
	_, man, dir := trainAndReplay(t, ds, "pop")
	cfg, _ := ParseConfig("test.yaml", []byte(strings.ReplaceAll(testPipeline, "%s", "pop")))

	other := *ds
	other.Events = ds.Events[:len(ds.Events)-1]
	if _, err := Open(cfg, dir, &other); err == nil || !strings.Contains(err.Error(), "was trained on") {
		t.Fatalf("foreign data accepted: %v", err)
	}
	path := filepath.Join(dir, man.Models["pop"].Artifact)
	data, _ := os.ReadFile(path)
	data[len(data)/2] ^= 0xff
	os.WriteFile(path, data, 0o644)
	if _, err := Open(cfg, dir, ds); err == nil || !strings.Contains(err.Error(), "checksum") || !strings.Contains(err.Error(), path) {
		t.Fatalf("damaged artifact accepted: %v", err)
	}
	os.Remove(filepath.Join(dir, "manifest.json"))
	if _, err := Open(cfg, dir, ds); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Fatalf("missing manifest: %v", err)
	}
}

// spy is a model kind that records the latest event time it was trained on.
type spy struct{ candidates.Source }

func (spy) Save(path string) (string, error) { return "", os.WriteFile(path, nil, 0o644) }

func TestNoTestEventReachesAnyModel(t *testing.T) {
	ds := world(t)
	var mu sync.Mutex
	var latest []int64
	kinds["spy"] = &modelKind{
		source: true,
		newParams: func() any {
			return &struct {
				X int `yaml:"x"`
			}{}
		},
		train: func(ctx context.Context, env TrainEnv, params any) (Model, error) {
			mu.Lock()
			latest = append(latest, env.Events[len(env.Events)-1].Time)
			mu.Unlock()
			for _, e := range env.Events {
				if int(e.Item) >= env.NumItems || int(e.User) >= env.NumUsers {
					t.Errorf("event outside the declared catalog: %+v", e)
				}
			}
			return spy{popularityOf(env)}, nil
		},
	}
	t.Cleanup(func() { delete(kinds, "spy") })
	split := dataset.TemporalSplit(ds.Events, 0.9)
	valid := dataset.TemporalSplit(split.Train, 0.9)
	inner := dataset.TemporalSplit(valid.Train, 0.9) // where the ranking stack's rankers learn
	const base = "models:\n  s:\n    type: spy\n    params: {x: [1, 2]}\nretrieve: {sources: [{model: s, k: 10}]}\n"
	cases := []struct {
		name, yaml string
		// limits[i] is the cut training i must stay before: tuning runs see only the validation
		// split's train part, and the retraining that chooses the ranking stack only the part
		// before the inner cut.
		limits []int64
	}{
		{"first stage", base, []int64{valid.Cut, valid.Cut, split.Cut}},
		{"ranking stack chosen on validation", base + "features: {}\nrankers: [{name: gbm, type: lightgbm, optional: true, params: {trees: 5}}]\nranking_data: {max_requests: 500}\n",
			[]int64{valid.Cut, valid.Cut, split.Cut, inner.Cut}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			latest = nil
			cfg, err := ParseConfig("spy.yaml", []byte(c.yaml))
			if err != nil {
				t.Fatal(err)
			}
			man, err := Train(context.Background(), cfg, ds, t.TempDir(), Options{Progress: progress.Options{Disabled: true}, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if len(latest) != len(c.limits) {
				t.Fatalf("%d trainings, want %d", len(latest), len(c.limits))
			}
			for i, ts := range latest {
				if ts >= c.limits[i] {
					t.Fatalf("training %d saw an event at %d ≥ cut %d", i, ts, c.limits[i])
				}
			}
			if sel := man.StackSelection; sel != nil && sel.InnerCut >= valid.Cut {
				t.Fatalf("the stack was chosen on requests from %d, after the validation cut %d", sel.InnerCut, valid.Cut)
			}
			for name, e := range man.Rankers {
				if e.DataSpan.To >= split.Cut {
					t.Fatalf("ranker %s learned from an event at %d ≥ cut %d", name, e.DataSpan.To, split.Cut)
				}
			}
		})
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func popularityOf(env TrainEnv) candidates.Source {
	m, _ := kinds["popularity"].train(context.Background(), env, &NoParams{})
	return m
}
