package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/servedlog"
	"github.com/cascade-rec/cascade/synth"
)

// impressionWorld is a small generated world with its logged impressions (impressions.jsonl beside
// the events), plus two slates the catalog cannot place: one for an unknown user, one showing an
// unknown item. Generated once per test binary.
var impressionWorld = sync.OnceValues(func() (*dataset.Dataset, error) {
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Users, cfg.Items, cfg.Events, cfg.Impressions = 2, 300, 200, 12_000, 3000
	dir, w, err := generateWorld(cfg)
	if err != nil {
		return nil, err
	}
	// Inside the validation window (replay-v1's cuts at 0.9 of the events, then of the train part).
	n := len(w.Events)
	cut := w.Events[n*9/10].Time
	train := 0
	for train < n && w.Events[train].Time < cut {
		train++
	}
	at := (w.Events[train*9/10].Time + cut) / 2
	last := w.Impressions[len(w.Impressions)-1]
	f, err := os.OpenFile(filepath.Join(dir, synth.ImpressionsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, `{"request_id":"x1","user_id":"nobody","timestamp":%d,"shown":[{"item_id":"i1","position":1,"propensity":1}],"clicked":[]}`+"\n", at)
	fmt.Fprintf(f, `{"request_id":"x2","user_id":"%s","timestamp":%d,"shown":[{"item_id":"no-such-item","position":1,"propensity":1},{"item_id":"i1","position":2,"propensity":1}],"clicked":[]}`+"\n", w.Users[last.User].ID, at)
	if err := f.Close(); err != nil {
		return nil, err
	}
	return dataset.Load(dir, dataset.LoadOptions{})
})

func testImpressionWorld(t *testing.T) *dataset.Dataset {
	t.Helper()
	ds, err := impressionWorld()
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

const impressionPipeline = `name: impressions
models:
  pop: {type: popularity}
  ials: {type: ials, params: {factors: 8, iterations: 4, solver: cg}}
retrieve: {sources: [{model: ials, k: 40}, {model: pop, k: 10}]}
features: {}
rankers:
  - {name: gbdt, type: lightgbm, params: {trees: 20, leaves: 7, min_data_in_leaf: 5, early_stopping: 0}}
final: {k: 20}
ranking_data:
  source: impressions
`

func impressionConfig(t *testing.T, extra string) *Config {
	t.Helper()
	cfg, err := ParseConfig(filepath.Join(t.TempDir(), "p.yaml"), []byte(impressionPipeline+extra))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The ranking data of source impressions: the shown slates of the validation window (found beside
// the data), with the position column and the sampled negatives asked for; unknown users and
// items are left out and counted.
func TestImpressionRankingData(t *testing.T) {
	ds := testImpressionWorld(t)
	for _, c := range []struct {
		name     string
		extra    string
		position bool
		share    float64
	}{
		{"position, no negatives", "", true, 0},
		{"position, negatives", "  random_negatives: 0.2\n", true, 0.2},
		{"no position", "  position_feature: false\n", false, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var set *ranker.Set
			opt := Options{Logger: quiet, Progress: progress.Options{Disabled: true}, Workers: 2, OnlyRankingData: true,
				RankingData: func(s *ranker.Set) error { set = s; return nil }}
			if _, err := Train(context.Background(), impressionConfig(t, c.extra), ds, t.TempDir(), opt); err != nil {
				t.Fatal(err)
			}
			if err := set.Validate(); err != nil {
				t.Fatal(err)
			}
			if len(set.Requests) < 50 || set.Impressions.Clicked == 0 || set.Stats.WithPositive < 10 {
				t.Fatalf("%d requests, %+v, %+v", len(set.Requests), set.Stats, set.Impressions)
			}
			if set.Impressions.UnknownItems < 1 || set.Stats.NoHistory < 1 {
				t.Errorf("the unknown item and user: %+v, %+v", set.Impressions, set.Stats)
			}
			nf := set.NumFeatures()
			col := slices.Index(set.FeatureNames, ranker.PositionFeature)
			if (col >= 0) != c.position {
				t.Fatalf("position column at %d, want present = %v", col, c.position)
			}
			for _, r := range set.Requests {
				if want := int(c.share * float64(r.Proposed)); len(r.Items)-r.Proposed > want {
					t.Fatalf("%d sampled negatives for %d shown, want at most %d", len(r.Items)-r.Proposed, r.Proposed, want)
				}
				for i := range r.Items {
					if col < 0 {
						break
					}
					pos := r.Row(i, nf)[col]
					if i < r.Proposed && (pos < 1 || pos > 10) || i >= r.Proposed && pos != ranker.ServePosition {
						t.Fatalf("item %d of %d (%d shown) at position %v", i, len(r.Items), r.Proposed, pos)
					}
				}
			}
			if c.share > 0 && set.Rows()-set.Impressions.Shown < set.Impressions.Shown/10 {
				t.Errorf("%d sampled negatives for %d shown at share %v", set.Rows()-set.Impressions.Shown, set.Impressions.Shown, c.share)
			}
		})
	}
}

// A ranker trained from impressions with the position column reads it, and serving fills it with
// the same constant for every candidate: the position cannot order what serving ranks.
func TestImpressionRankerServesPositionAsConstant(t *testing.T) {
	ds := testImpressionWorld(t)
	cfg := impressionConfig(t, "")
	dir := t.TempDir()
	man, err := Train(context.Background(), cfg, ds, dir, Options{Logger: quiet, Progress: progress.Options{Disabled: true}, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rd := man.RankingData; rd == nil || rd.Source != SourceImpressions || rd.Impressions == nil || rd.Impressions.Shown == 0 {
		t.Fatalf("manifest ranking data %+v", man.RankingData)
	}
	p, err := Open(cfg, dir, ds)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.rankers[0].m.FeatureNames(), ranker.PositionFeature) {
		t.Fatalf("the ranker does not read %s: %v", ranker.PositionFeature, p.rankers[0].m.FeatureNames())
	}
	col := slices.Index(p.FeatureNames(), ranker.PositionFeature)
	split := dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)
	served := 0
	for _, e := range split.Test[:40] {
		res, err := p.RecommendDense(context.Background(), Query{Query: queryBefore(ds, e), K: 20, Explain: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Explain == nil {
			continue
		}
		for _, ie := range res.Explain.Items {
			if ie.Features[col] != ranker.ServePosition {
				t.Fatalf("item %d served with %s = %v", ie.Item, ranker.PositionFeature, ie.Features[col])
			}
		}
		served++
	}
	if served == 0 {
		t.Fatal("no personal answer to check")
	}
}

// A log that is not there fails before any model trains, at the key naming it.
func TestImpressionLogMissing(t *testing.T) {
	ds := testImpressionWorld(t)
	for _, c := range []struct {
		name string
		ds   *dataset.Dataset
		cfg  string
		msg  string
	}{
		{"named log", ds, "  log: nowhere.jsonl\n", "nowhere.jsonl"},
		{"nothing beside the data", &dataset.Dataset{Name: "mem", Users: ds.Users, Items: ds.Items, Events: ds.Events}, "", "no impressions.jsonl or served.jsonl"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Train(context.Background(), impressionConfig(t, c.cfg), c.ds, t.TempDir(), Options{Logger: quiet, Progress: progress.Options{Disabled: true}})
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != "ranking_data.log" || !strings.Contains(ce.Msg, c.msg) {
				t.Fatalf("error %v, want one at ranking_data.log naming %q", err, c.msg)
			}
		})
	}
}

// queryBefore is the request at event e: the user's events before it as the history.
func queryBefore(ds *dataset.Dataset, e dataset.Event) candidates.Query {
	q := candidates.Query{User: e.User, Time: e.Time}
	for _, h := range ds.Events {
		if h.Time >= e.Time {
			break
		}
		if h.User == e.User {
			q.History, q.HistoryTimes, q.HistoryValues = append(q.History, h.Item), append(q.HistoryTimes, h.Time), append(q.HistoryValues, h.Value)
		}
	}
	return q
}

// A server's served log has no clicks or propensities: the labels come from the events alone.
func TestImpressionRankingDataFromServedLog(t *testing.T) {
	ds := testImpressionWorld(t)
	entries, err := servedlog.ReadFile(filepath.Join(ds.Dir, synth.ImpressionsFile))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "served.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for _, e := range entries {
		for i := range e.Items {
			e.Items[i].Propensity, e.Items[i].Clicked = nil, nil
		}
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var set *ranker.Set
	opt := Options{Logger: quiet, Progress: progress.Options{Disabled: true}, Workers: 2, OnlyRankingData: true,
		RankingData: func(s *ranker.Set) error { set = s; return nil }}
	if _, err := Train(context.Background(), impressionConfig(t, "  log: "+path+"\n"), ds, t.TempDir(), opt); err != nil {
		t.Fatal(err)
	}
	if set.Impressions.Clicked != 0 || set.Impressions.Consumed == 0 || set.Stats.WithPositive == 0 {
		t.Fatalf("labels from a log without clicks: %+v, %+v", set.Impressions, set.Stats)
	}
}
