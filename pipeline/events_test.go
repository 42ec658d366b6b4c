package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/replay"
)

const eventsBase = `name: ev
models: {pop: {type: popularity}}
retrieve: {sources: [{model: pop, k: 10}]}
`

// TestLoadDataEvents: the events section is checked against the data's types at load, where
// the file's line can still be named, and dropped types never reach the data set.
func TestLoadDataEvents(t *testing.T) {
	dir := t.TempDir()
	typed := filepath.Join(dir, "typed")
	plain := filepath.Join(dir, "plain")
	for d, csv := range map[string]string{
		typed: "user_id,item_id,timestamp,event\nu1,a,1,view\nu1,b,2,impression\nu2,a,3,buy\nu2,c,4,cart\nu3,d,5,impression\n",
		plain: "user_id,item_id,timestamp\nu1,a,1\nu2,a,3\n",
	} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "events.csv"), []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, events, data string
		kept               []string // the items of the loaded events
		line               int      // of the error; 0: none
		key                string
		msg                string
	}{
		{"no section", "", typed, []string{"a", "b", "a", "c", "d"}, 0, "", ""},
		{"no section, no column", "", plain, []string{"a", "a"}, 0, "", ""},
		{"weights", "events:\n  types: {view: {weight: 1}, buy: {weight: 10}}\n", typed, []string{"a", "b", "a", "c", "d"}, 0, "", ""},
		{"drop", "events:\n  types:\n    impression: {drop: true}\n  positives: [buy, cart]\n", typed, []string{"a", "a", "c"}, 0, "", ""},
		{"unknown type", "events:\n  types:\n    view: {weight: 1}\n    purchase: {weight: 10}\n", typed, nil, 7, "events.types.purchase", `no events of type "purchase" (its types: "view", "impression", "buy", "cart")`},
		{"unknown positive", "events:\n  positives: [buy, order]\n", typed, nil, 5, "events.positives[1]", `no events of type "order"`},
		{"no event column", "events:\n  types: {buy: {weight: 10}}\n", plain, nil, 5, "events.types.buy", "has no event column"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := ParseConfig("ev.yaml", []byte(eventsBase+c.events))
			if err != nil {
				t.Fatal(err)
			}
			ds, err := cfg.LoadData(context.Background(), c.data, "", quiet)
			if c.line > 0 {
				var ce *ConfigError
				if !errors.As(err, &ce) || ce.Line != c.line || ce.Key != c.key || !strings.Contains(ce.Msg, c.msg) {
					t.Fatalf("error %v, want line %d key %s message %q", err, c.line, c.key, c.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var items []string
			for _, e := range ds.Events {
				items = append(items, ds.Items.String(e.Item))
			}
			if !slices.Equal(items, c.kept) {
				t.Fatalf("events of %v, want %v", items, c.kept)
			}
			// Data loaded without the drop is refused by Train rather than silently used.
			if len(cfg.Events.dropped()) > 0 {
				raw, err := dataset.Load(c.data, dataset.LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := cfg.resolveEvents(raw, nil); err == nil || !strings.Contains(err.Error(), "events.types.impression.drop") {
					t.Fatalf("data with dropped types: %v", err)
				}
			}
		})
	}
}

// typedPipeline trains iALS on the generated e-commerce-like world (view, cart, buy); %s is
// the events section.
const typedPipeline = `name: typed
dataset: {synthetic: {users: 600, items: 500, events: 20000, seed: 2, event_types: true}}
models:
  ials: {type: ials, params: {factors: 8, alpha: 4, reg: 3, iterations: 4, solver: cg}}
retrieve: {sources: [{model: ials, k: 100}]}
features: {}
final: {k: 50}
`

// TestTrainEventTypes runs the pipeline end to end on a generated log with event types: weights
// change iALS but not replay's targets, a dropped type leaves the data and the targets, and the
// ranker's requests come from the positive types alone (labels: TestBuildPositives).
func TestTrainEventTypes(t *testing.T) {
	cache := t.TempDir()
	type run struct {
		ds     *dataset.Dataset
		man    *Manifest
		report *replay.Report
		set    *ranker.Set
	}
	runs := map[string]run{}
	for _, c := range []struct {
		name, events string
		rankingData  bool
	}{
		{"plain", "", true},
		{"weighted", "events: {types: {view: {weight: 1}, cart: {weight: 3}, buy: {weight: 8}}, positives: [buy]}\n", true},
		{"no views", "events: {types: {view: {drop: true}}}\n", false},
	} {
		cfg, err := ParseConfig("typed.yaml", []byte(typedPipeline+c.events))
		if err != nil {
			t.Fatal(err)
		}
		ds, err := cfg.LoadData(context.Background(), "", cache, quiet)
		if err != nil {
			t.Fatal(err)
		}
		var r run
		r.ds = ds
		dir := t.TempDir()
		opt := Options{Logger: quiet, Progress: progress.Options{Disabled: true}}
		if r.man, err = Train(context.Background(), cfg, ds, dir, opt); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.rankingData { // as rankers would learn from it (the file has no ranker to train)
			opt.OnlyRankingData, opt.RankingData = true, func(s *ranker.Set) error { r.set = s; return nil }
			if _, err = Train(context.Background(), cfg, ds, t.TempDir(), opt); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
		}
		p, err := Open(cfg, dir, ds)
		if err != nil {
			t.Fatal(err)
		}
		split := dataset.TemporalSplit(ds.Events, cfg.Split.TrainFraction)
		if r.report, err = replay.Run(context.Background(), split, p.Replay(), replay.Options{ItemIDs: ds.Items.IDs(), Progress: progress.Options{Disabled: true}}); err != nil {
			t.Fatal(err)
		}
		runs[c.name] = r
	}
	plain, weighted, noViews := runs["plain"], runs["weighted"], runs["no views"]
	t.Logf("ndcg@10: plain %.4f, weighted %.4f", plain.report.Metrics["ndcg@10"], weighted.report.Metrics["ndcg@10"])
	if plain.man.Models["ials"].SHA256 == weighted.man.Models["ials"].SHA256 {
		t.Fatal("the weights did not change iALS")
	}
	if plain.report.TestSteps != weighted.report.TestSteps {
		t.Fatalf("replay targets changed with weights and positives: %d, %d steps", plain.report.TestSteps, weighted.report.TestSteps)
	}

	views, _ := plain.ds.TypeIndex("view")
	counts := plain.ds.TypeCounts()
	if noViews.ds.Dropped != counts[views] || len(noViews.ds.Events) != len(plain.ds.Events)-counts[views] || noViews.ds.TypeCounts()[views] != 0 {
		t.Fatalf("dropping views: %d dropped of %d, %d events left of %d", noViews.ds.Dropped, counts[views], len(noViews.ds.Events), len(plain.ds.Events))
	}
	if noViews.report.TestSteps >= plain.report.TestSteps {
		t.Fatalf("dropped views are still replay targets: %d steps, %d with views", noViews.report.TestSteps, plain.report.TestSteps)
	}

	// Every ranking request of the positives run is at a purchase.
	buys := weighted
	buy, _ := buys.ds.TypeIndex("buy")
	type key struct {
		user, item int32
		time       int64
	}
	typeOf := map[key]uint8{}
	for _, e := range buys.ds.Events {
		typeOf[key{e.User, e.Item, e.Time}] = e.Type
	}
	if len(buys.set.Requests) == 0 || len(buys.set.Requests) >= len(plain.set.Requests) {
		t.Fatalf("%d requests with buy positives, %d without", len(buys.set.Requests), len(plain.set.Requests))
	}
	for _, r := range buys.set.Requests {
		if typ, ok := typeOf[key{r.User, r.Target, r.Time}]; !ok || typ != buy {
			t.Fatalf("a request at user %d's event of item %d (type %d), not a purchase", r.User, r.Target, typ)
		}
	}
}
