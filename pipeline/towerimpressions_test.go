package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/twotower"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
)

const towerImpressionPipeline = `name: tower-impressions
models:
  tt:
    type: twotower
    params: {dim: 8, hidden: [[16]], history_len: 8, heads: 2, attr_dim: 4, context_dim: 2, batch_size: 64, epochs: 2, validation_fraction: 0, examples: %s, negatives: %s}
retrieve: {sources: [{model: tt, k: 20}]}
final: {k: 20}
`

// A two-tower with examples: impressions trains from the impressions log beside the data (no
// ranking_data section asks for it), and serves.
func TestTwoTowerFromImpressions(t *testing.T) {
	ds := testImpressionWorld(t)
	for _, neg := range []string{"shown", "mixed"} {
		t.Run(neg, func(t *testing.T) {
			cfg, err := ParseConfig(filepath.Join(t.TempDir(), "p.yaml"), []byte(strings.NewReplacer("%s, negatives: %s", "impressions, negatives: "+neg).Replace(towerImpressionPipeline)))
			if err != nil {
				t.Fatal(err)
			}
			if !towerLearnsFromImpressions(cfg) {
				t.Fatal("the file's two-tower asks for impressions")
			}
			out := t.TempDir()
			opt := Options{Logger: quiet, Progress: progress.Options{Disabled: true}, Workers: 2}
			if _, err := Train(context.Background(), cfg, ds, out, opt); err != nil {
				t.Fatal(err)
			}
			p, err := Open(cfg, out, ds)
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.RecommendDense(context.Background(), Query{Query: candidates.Query{User: 0, History: []int32{1, 2, 3}}, K: 10})
			if err != nil || len(res.Items) == 0 {
				t.Fatalf("%d items, %v", len(res.Items), err)
			}
		})
	}
}

// A bad mode is a config error naming the key; a file asking for impressions with no log
// beside the data fails before training, naming ranking_data.log.
func TestTwoTowerImpressionErrors(t *testing.T) {
	bad := strings.NewReplacer("%s, negatives: %s", "impresions, negatives: in_batch").Replace(towerImpressionPipeline)
	_, err := ParseConfig(filepath.Join(t.TempDir(), "p.yaml"), []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "examples") || !strings.Contains(err.Error(), `"impressions"`) {
		t.Errorf("examples: impresions: error %v", err)
	}
	ds := world(t) // an empty impressions.jsonl beside it
	ok := strings.NewReplacer("%s, negatives: %s", "impressions, negatives: shown").Replace(towerImpressionPipeline)
	cfg, err := ParseConfig(filepath.Join(t.TempDir(), "p.yaml"), []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Train(context.Background(), cfg, ds, t.TempDir(), Options{Logger: quiet, Progress: progress.Options{Disabled: true}, Workers: 2})
	if err == nil || !strings.Contains(err.Error(), "none of the log's 0 slates") {
		t.Errorf("empty log: error %v", err)
	}
	ds2 := *ds
	ds2.Dir = t.TempDir() // no log at all
	_, err = Train(context.Background(), cfg, &ds2, t.TempDir(), Options{Logger: quiet, Progress: progress.Options{Disabled: true}, Workers: 2})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != "ranking_data.log" {
		t.Errorf("no log: error %v, want a ConfigError on ranking_data.log", err)
	}
}

// towerImpressions keeps the slates served by the window's last event, with their clicks.
func TestTowerImpressionsWindow(t *testing.T) {
	env := TrainEnv{
		Events: []dataset.Event{{User: 0, Item: 1, Time: 100}, {User: 1, Item: 2, Time: 200}},
		Impressions: []ranker.Impression{
			{Query: candidates.Query{User: 0, Time: 150}, Shown: []ranker.Shown{{Item: 3, Position: 1, Clicked: true}, {Item: -1, Position: 2}}},
			{Query: candidates.Query{User: 1, Time: 200}, Shown: []ranker.Shown{{Item: 4, Position: 1}}},
			{Query: candidates.Query{User: 1, Time: 201}, Shown: []ranker.Shown{{Item: 5, Position: 1, Clicked: true}}},
		},
	}
	got, err := towerImpressions(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Time != 150 || got[1].Time != 200 {
		t.Fatalf("%+v: want the slates at 150 and 200", got)
	}
	if g := got[0]; len(g.Shown) != 2 || g.Shown[1] != -1 || !g.Clicked[0] || g.Clicked[1] {
		t.Errorf("%+v: want items [3 -1], clicks [true false]", g)
	}
}

// A model cache keys a two-tower that learns from impressions by the log too, and one that
// does not as before.
func TestTowerImpressionsCacheKey(t *testing.T) {
	c, err := OpenModelCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := TrainEnv{
		Events:      []dataset.Event{{User: 0, Item: 1, Time: 100}},
		NumUsers:    1,
		NumItems:    2,
		Workers:     1,
		Impressions: []ranker.Impression{{Query: candidates.Query{User: 0, Time: 150}, Shown: []ranker.Shown{{Item: 1, Clicked: true}}}},
	}
	other := env
	other.Impressions = []ranker.Impression{{Query: candidates.Query{User: 0, Time: 150}, Shown: []ranker.Shown{{Item: 1}}}}
	key := func(env TrainEnv, p twotower.Params) string {
		k, err := c.key("twotower", env, &p)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	def := twotower.DefaultParams()
	imp := def
	imp.Examples = twotower.ExamplesImpressions
	if key(env, def) != key(other, def) {
		t.Error("the log changed the key of a two-tower that does not read it")
	}
	if key(env, imp) == key(other, imp) {
		t.Error("the log did not change the key of a two-tower that learns from it")
	}
}

// Train reads the impressions log when any trial of a two-tower's grid learns from it.
func TestTowerLearnsFromImpressions(t *testing.T) {
	for _, c := range []struct {
		examples, negatives string
		want                bool
	}{
		{"events", "in_batch", false},
		{"impressions", "shown", true},
		{"[events, impressions]", "in_batch", true},
	} {
		text := strings.NewReplacer("%s, negatives: %s", c.examples+", negatives: "+c.negatives).Replace(towerImpressionPipeline)
		cfg, err := ParseConfig(filepath.Join(t.TempDir(), "p.yaml"), []byte(text))
		if err != nil {
			t.Fatalf("examples %s: %v", c.examples, err)
		}
		if got := towerLearnsFromImpressions(cfg); got != c.want {
			t.Errorf("examples %s: towerLearnsFromImpressions = %v, want %v", c.examples, got, c.want)
		}
	}
}
