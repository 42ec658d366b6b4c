package pipeline

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/replay"
)

// refreshReplay opens the live bundle (two-tower source and feature, LightGBM ranker) with the
// live pipeline file whose two-tower source line is source, and replays a sample of its test
// split with workers. It returns the report without its timings, as JSON, and the pipeline.
func refreshReplay(t *testing.T, source string, workers int) ([]byte, *Pipeline) {
	t.Helper()
	ds := world(t)
	dir, err := liveBundle()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig("live.yaml", []byte(replace(t, livePipeline, "{model: twotower, k: 100}", source)))
	if err != nil {
		t.Fatal(err)
	}
	rep, p := openAndReplay(t, cfg, dir, ds, replay.Options{Workers: workers, Sample: 800, Seed: 3})
	rep.LatencyMS, rep.StageLatencyMS, rep.Seconds, rep.StepsPerSecond = nil, nil, 0, 0
	rep.CI.LatencyMS, rep.CI.StageLatencyMS = nil, nil
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return b, p
}

// query_refresh_hours: 0 is today's serving, figure for figure; a positive interval reuses
// query embeddings (and changes what is served), deterministically for any number of workers.
func TestQueryRefreshReplay(t *testing.T) {
	today, p := refreshReplay(t, "{model: twotower, k: 100}", 2)
	if st := p.QueryRefresh(); len(st) != 0 {
		t.Fatalf("a file without query_refresh_hours caches queries: %+v", st)
	}
	zero, _ := refreshReplay(t, "{model: twotower, k: 100, query_refresh_hours: 0}", 2)
	if string(zero) != string(today) {
		t.Fatalf("query_refresh_hours: 0 changed the replay:\n%s\nwant\n%s", zero, today)
	}
	const week = "{model: twotower, k: 100, query_refresh_hours: 168}"
	one, p1 := refreshReplay(t, week, 1)
	three, _ := refreshReplay(t, week, 3)
	if string(one) != string(three) {
		t.Fatalf("a weekly refresh replays differently on 1 and 3 workers:\n%s\n%s", one, three)
	}
	if string(one) == string(today) {
		t.Error("a weekly refresh replays exactly as every-request does: nothing was reused")
	}
	st, ok := p1.QueryRefresh()["twotower"]
	var rep, base replay.Report
	if err := errors.Join(json.Unmarshal(one, &rep), json.Unmarshal(today, &base)); err != nil {
		t.Fatal(err)
	}
	// The source and the two-tower feature each embed the query once per replayed step.
	steps := uint64(rep.Sample.Steps)
	if !ok || st.Reused == 0 || st.Computed == 0 || st.Computed+st.Reused < steps {
		t.Fatalf("refresh stats %+v (present %v) over %d replayed steps", st, ok, steps)
	}
	t.Logf("weekly refresh: %d computed, %d reused over %d steps; ndcg@10 %.4f (every request %.4f)",
		st.Computed, st.Reused, steps, rep.Metrics["ndcg@10"], base.Metrics["ndcg@10"])
}

// A bad query_refresh_hours is a ConfigError at its key, saying what the key takes.
func TestQueryRefreshConfigErrors(t *testing.T) {
	const base = `name: t
models:
  tt:
    type: twotower
  ials:
    type: ials
retrieve:
  sources:
    - {model: tt, k: 50}
final: {k: 20}
`
	cases := []struct {
		name, old, new string
		key            string
		msg            string
	}{
		{"negative", "{model: tt, k: 50}", "{model: tt, k: 50, query_refresh_hours: -1}",
			"retrieve.sources[0].query_refresh_hours", "must be a number of hours in [0, 87600] (0: every request), got -1"},
		{"not a number", "{model: tt, k: 50}", "{model: tt, k: 50, query_refresh_hours: .nan}",
			"retrieve.sources[0].query_refresh_hours", "got NaN"},
		{"infinite", "{model: tt, k: 50}", "{model: tt, k: 50, query_refresh_hours: .inf}",
			"retrieve.sources[0].query_refresh_hours", "got +Inf"},
		{"too long", "{model: tt, k: 50}", "{model: tt, k: 50, query_refresh_hours: 1e9}",
			"retrieve.sources[0].query_refresh_hours", "in [0, 87600]"},
		{"a word", "{model: tt, k: 50}", "{model: tt, k: 50, query_refresh_hours: daily}",
			"retrieve.sources[0].query_refresh_hours", `expected a number, got "daily"`},
		{"no query tower", "{model: tt, k: 50}", "{model: tt, k: 50}\n    - {model: ials, k: 50, query_refresh_hours: 6}",
			"retrieve.sources[1].query_refresh_hours", `model "ials" (ials) has no query tower`},
		{"two intervals for one model", "final:", "variants:\n  - {name: a, share: 0.5}\n  - {name: b, share: 0.5, sources: [{model: tt, k: 50, query_refresh_hours: 24}]}\nfinal:",
			"variants[1].sources[0].query_refresh_hours", `be 0, as the first source of model "tt" has it`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("t.yaml", []byte(replace(t, base, tc.old, tc.new)))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a ConfigError", err, err)
			}
			if ce.Key != tc.key || ce.Line == 0 || !strings.Contains(ce.Msg, tc.msg) {
				t.Fatalf("error %v (key %q, line %d), want key %q and a message with %q", err, ce.Key, ce.Line, tc.key, tc.msg)
			}
		})
	}
	ok := replace(t, base, "{model: tt, k: 50}", "{model: tt, k: 50, query_refresh_hours: 0.5}")
	if _, err := ParseConfig("t.yaml", []byte(ok)); err != nil {
		t.Errorf("half an hour refused: %v", err)
	}
}
