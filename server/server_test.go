package server

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/server/history"

	"github.com/cascade-rec/cascade/servedlog"
)

func TestRecommendKnownUser(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	user, seen := activeUser(f)
	var resp recommendResponse
	w := do(t, s.Handler(), "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user, "k": 7}), &resp)
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(resp.Items) != 7 || resp.Fallback || !resp.UserKnown || resp.HistoryLen == 0 || resp.ModelVersion != s.Version() || resp.RequestID == "" {
		t.Fatalf("answer %+v", resp)
	}
	if w.Header().Get("X-Request-Id") != resp.RequestID {
		t.Errorf("header request id %q, body %q", w.Header().Get("X-Request-Id"), resp.RequestID)
	}
	for i, it := range resp.Items {
		if it.Rank != i+1 || it.ItemID == "" {
			t.Errorf("item %d: %+v", i, it)
		}
		if slices.Contains(seen, it.ItemID) {
			t.Errorf("seen item %s recommended", it.ItemID)
		}
		if len(it.Sources) == 0 {
			t.Errorf("item %s has no source", it.ItemID)
		}
		if it.Features != nil || it.RankerScores != nil {
			t.Errorf("explain output without explain: %+v", it)
		}
	}
	var names []string
	for _, st := range resp.Stages {
		names = append(names, st.Name)
	}
	if want := "ials,pop,merged,features,lgbm"; strings.Join(names, ",") != want {
		t.Errorf("stages %v, want %s", names, want)
	}
	// The same request with a client request ID keeps it.
	req := mustJSON(map[string]any{"user_id": user})
	r, _ := http.NewRequest("POST", "/v1/recommend", strings.NewReader(req))
	r.Header.Set("X-Request-Id", "client-42")
	rw := httptest.NewRecorder()
	s.Handler().ServeHTTP(rw, r)
	if rw.Header().Get("X-Request-Id") != "client-42" || !strings.Contains(rw.Body.String(), `"request_id":"client-42"`) {
		t.Errorf("client request id not kept: %s", rw.Body)
	}
	if !strings.Contains(rw.Body.String(), `"rank":10,`) || strings.Contains(rw.Body.String(), `"rank":11,`) {
		t.Errorf("default k is not 10: %s", rw.Body)
	}
}

func TestRecommendUnknownUserGetsFallback(t *testing.T) {
	s := newServer(t, ranked(t), nil)
	var resp recommendResponse
	w := do(t, s.Handler(), "POST", "/v1/recommend", `{"user_id": "never-seen", "k": 5}`, &resp)
	if w.Code != 200 || len(resp.Items) != 5 || !resp.Fallback || resp.UserKnown || resp.HistoryLen != 0 {
		t.Fatalf("%d %+v", w.Code, resp)
	}
	// Every source stage says the fallback model's list stood in for it, and why.
	for _, st := range resp.Stages[:2] {
		if !st.Fallback || !strings.Contains(st.Error, "no history item") {
			t.Fatalf("stages %+v", resp.Stages)
		}
	}
	// Unknown history items alone still give the fallback list, with a warning.
	w = do(t, s.Handler(), "POST", "/v1/recommend", `{"user_id": "never-seen", "history": ["no-such-item"]}`, &resp)
	if w.Code != 200 || !resp.Fallback || len(resp.Warnings) != 1 {
		t.Fatalf("%d %+v", w.Code, resp)
	}
}

func TestRecommendExplicitHistoryAndExclude(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	_, seen := activeUser(f)
	hist := seen[len(seen)-5:]
	var resp recommendResponse
	body := mustJSON(map[string]any{"user_id": "anon-1", "history": hist, "k": 10})
	if w := do(t, s.Handler(), "POST", "/v1/recommend", body, &resp); w.Code != 200 || resp.Fallback || resp.HistoryLen != 5 {
		t.Fatalf("%d %+v", w.Code, resp)
	}
	top := []string{resp.Items[0].ItemID, resp.Items[1].ItemID}
	body = mustJSON(map[string]any{"user_id": "anon-1", "history": hist, "k": 10, "exclude": append(top, "not-an-item")})
	var again recommendResponse
	do(t, s.Handler(), "POST", "/v1/recommend", body, &again)
	for _, it := range again.Items {
		if slices.Contains(top, it.ItemID) || slices.Contains(hist, it.ItemID) {
			t.Fatalf("excluded or seen item %s returned", it.ItemID)
		}
	}
	if len(again.Items) != 10 {
		t.Fatalf("%d items", len(again.Items))
	}
	// Exclusions apply to the fallback list too.
	var fb recommendResponse
	do(t, s.Handler(), "POST", "/v1/recommend", `{"user_id": "x", "k": 3}`, &fb)
	body = mustJSON(map[string]any{"user_id": "x", "k": 3, "exclude": []string{fb.Items[0].ItemID}})
	do(t, s.Handler(), "POST", "/v1/recommend", body, &again)
	if again.Items[0].ItemID == fb.Items[0].ItemID {
		t.Fatal("exclude ignored by the fallback list")
	}
}

func TestRecommendExplain(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	user, _ := activeUser(f)
	var resp recommendResponse
	w := do(t, s.Handler(), "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user, "k": 5, "explain": true}), &resp)
	if w.Code != 200 || len(resp.FeatureNames) < 10 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	for _, it := range resp.Items {
		if _, ok := it.RankerScores["lgbm"]; !ok || len(it.Features) != len(resp.FeatureNames) || len(it.Sources) == 0 {
			t.Fatalf("item %+v", it)
		}
	}
	// NaN features (missing values) must encode as null, not break the JSON.
	if !strings.Contains(w.Body.String(), `"features":{`) {
		t.Fatalf("no features object: %.300s", w.Body)
	}
}

func TestEventsFeedTheNextRequest(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	_, seen := activeUser(f)
	var er eventsResponse
	// One event, then a batch with an unknown item and RFC 3339 / fractional times.
	if w := do(t, s.Handler(), "POST", "/v1/events", mustJSON(map[string]any{"user_id": "new-user", "item_id": seen[0], "timestamp": 1700000000}), &er); w.Code != 200 || er.Accepted != 1 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	batch := []map[string]any{
		{"user_id": "new-user", "item_id": seen[1], "timestamp": "2023-11-14T22:13:21Z"},
		{"user_id": "new-user", "item_id": seen[2], "timestamp": 1700000002.5},
		{"user_id": "new-user", "item_id": "brand-new-item"},
	}
	if w := do(t, s.Handler(), "POST", "/v1/events", mustJSON(batch), &er); w.Code != 200 || er.Accepted != 3 || er.UnknownItems != 1 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var resp recommendResponse
	do(t, s.Handler(), "POST", "/v1/recommend", `{"user_id": "new-user", "k": 20}`, &resp)
	if resp.Fallback || !resp.UserKnown || resp.HistoryLen != 3 {
		t.Fatalf("after events: %+v", resp)
	}
	for _, it := range resp.Items {
		if slices.Contains(seen[:3], it.ItemID) {
			t.Fatalf("item %s the user just took was recommended", it.ItemID)
		}
	}
	if got := value(s.metrics.events); got != 4 {
		t.Errorf("events counter %v", got)
	}
}

func TestBadInput(t *testing.T) {
	s := newServer(t, ranked(t), func(c *Config) { c.MaxBodyBytes = 4096; c.MaxHistory = 5; c.MaxBatch = 3 })
	h := s.Handler()
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		path, body, field string
	}{
		{"/v1/recommend", ``, "body"},
		{"/v1/recommend", `{"user_id": "u"`, "body"},
		{"/v1/recommend", `{"user_id": "u",}`, "body"},
		{"/v1/recommend", `[1, 2]`, "body"},
		{"/v1/recommend", `"u"`, "body"},
		{"/v1/recommend", `{"user_id": "u"} {"user_id": "v"}`, "body"},
		{"/v1/recommend", `{"user_id": 7}`, "user_id"},
		{"/v1/recommend", `{"k": 5}`, "user_id"},
		{"/v1/recommend", `{"user_id": ""}`, "user_id"},
		{"/v1/recommend", `{"user_id": "` + long + `"}`, "user_id"},
		{"/v1/recommend", `{"user_id": "u", "k": "ten"}`, "k"},
		{"/v1/recommend", `{"user_id": "u", "k": 1.5}`, "k"},
		{"/v1/recommend", `{"user_id": "u", "k": 0}`, "k"},
		{"/v1/recommend", `{"user_id": "u", "k": -3}`, "k"},
		{"/v1/recommend", `{"user_id": "u", "k": 31}`, "k"},
		{"/v1/recommend", `{"user_id": "u", "k": 99999999999999999999}`, "k"},
		{"/v1/recommend", `{"user_id": "u", "history": "a"}`, "history"},
		{"/v1/recommend", `{"user_id": "u", "history": [1]}`, "history"},
		{"/v1/recommend", `{"user_id": "u", "history": ["a","b","c","d","e","f"]}`, "history"},
		{"/v1/recommend", `{"user_id": "u", "history": ["a", ""]}`, "history[1]"},
		{"/v1/recommend", `{"user_id": "u", "exclude": [null, 3]}`, "exclude"},
		{"/v1/recommend", `{"user_id": "u", "explain": "yes"}`, "explain"},
		{"/v1/recommend", `{"user_id": "u", "context": {"time": "now"}}`, "context.time"},
		{"/v1/recommend", `{"user_id": "u", "context": {"time": -1}}`, "context.time"},
		{"/v1/recommend", `{"user_id": "u", "context": {"weather": "rain"}}`, "weather"},
		{"/v1/recommend", `{"user_id": "u", "usr": "typo"}`, "usr"},
		{"/v1/recommend", `{"user_id": "u", "exclude": ["` + strings.Repeat("a\",\"", 2000) + `"]}`, "body"},
		{"/v1/events", ``, "body"},
		{"/v1/events", `[]`, "events"},
		{"/v1/events", `{}`, "user_id"},
		{"/v1/events", `{"user_id": "u"}`, "item_id"},
		{"/v1/events", `{"user_id": "u", "item_id": 5}`, "item_id"},
		{"/v1/events", `{"user_id": "u", "item_id": "i", "timestamp": "yesterday"}`, "timestamp"},
		{"/v1/events", `{"user_id": "u", "item_id": "i", "timestamp": -5}`, "timestamp"},
		{"/v1/events", `{"user_id": "u", "item_id": "i", "timestamp": true}`, "timestamp"},
		{"/v1/events", `{"user_id": "u", "item_id": "i", "rating": 5}`, "rating"},
		{"/v1/events", `[{"user_id": "u", "item_id": "i"}, {"user_id": "u"}]`, "events[1].item_id"},
		{"/v1/events", `[{"user_id": "u", "item_id": "i", "x": 1}]`, "events.x"},
		{"/v1/events", `[{"user_id":"u","item_id":"i"},{"user_id":"u","item_id":"i"},{"user_id":"u","item_id":"i"},{"user_id":"u","item_id":"i"}]`, "events"},
		{"/v1/events", `[{"user_id": "u", "item_id": "i"}] x`, "body"},
		{"/v1/events", `   `, "body"},
	} {
		var e apiError
		w := do(t, h, "POST", tc.path, tc.body, &e)
		want := 400
		if len(tc.body) > 4096 {
			want = 413 // what clients expect of an oversized body
		}
		if w.Code != want || e.Field != tc.field || e.Msg == "" || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s %.60s: %d field %q (want %d %q): %s", tc.path, tc.body, w.Code, e.Field, want, tc.field, w.Body)
		}
	}
	for _, tc := range []struct {
		method, path string
		code         int
		field        string
	}{
		{"GET", "/v1/recommend", 405, ""},
		{"POST", "/v1/nothing", 404, ""},
		{"GET", "/v1/items/x/similar?k=abc", 400, "k"},
		{"GET", "/v1/items/x/similar?k=0", 400, "k"},
		{"GET", "/v1/items/x/similar?k=100000", 400, "k"},
	} {
		var e apiError
		if w := do(t, h, tc.method, tc.path, "", &e); w.Code != tc.code || e.Field != tc.field || e.Msg == "" {
			t.Errorf("%s %s: %d %+v, want %d", tc.method, tc.path, w.Code, e, tc.code)
		}
	}
	if n := value(s.metrics.errors.WithLabelValues("bad_request")); n < 30 {
		t.Errorf("bad_request counter %v", n)
	}
	if n := value(s.metrics.errors.WithLabelValues("body_too_large")); n != 1 {
		t.Errorf("body_too_large counter %v", n)
	}
}

func TestSimilar(t *testing.T) {
	f := tower(t)
	s := newServer(t, f, nil)
	item := f.ds.Items.String(f.ds.Events[0].Item)
	var resp similarResponse
	w := do(t, s.Handler(), "GET", "/v1/items/"+item+"/similar?k=4", "", &resp)
	if w.Code != 200 || len(resp.Items) != 4 || resp.ItemID != item || resp.ModelVersion == "" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	for i, it := range resp.Items {
		if it.ItemID == item || it.Rank != i+1 {
			t.Fatalf("item %+v", it)
		}
	}
	var e apiError
	if w := do(t, s.Handler(), "GET", "/v1/items/no-such-item/similar", "", &e); w.Code != 404 || e.Code != "unknown_item" || e.Field != "id" {
		t.Fatalf("unknown item: %d %+v", w.Code, e)
	}
	// A pipeline without a two-tower answers by its iALS item factors.
	s2 := newServer(t, ranked(t), nil)
	if w := do(t, s2.Handler(), "GET", "/v1/items/"+item+"/similar?k=4", "", &resp); w.Code != 200 || len(resp.Items) != 4 || resp.Items[0].ItemID == item {
		t.Fatalf("similar by ials factors: %d %s", w.Code, w.Body)
	}
}

func TestHealthReadyMetricsOpenAPI(t *testing.T) {
	f := ranked(t)
	cfg := Config{Pipeline: f.cfg, Dataset: f.ds, Models: f.bundle, Logger: quietLogger()}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := s.Handler()
	if w := do(t, h, "GET", "/healthz", "", nil); w.Code != 200 {
		t.Fatalf("healthz %d", w.Code)
	}
	if w := do(t, h, "GET", "/readyz", "", nil); w.Code != 503 {
		t.Fatalf("readyz before load: %d", w.Code)
	}
	var e apiError
	if w := do(t, h, "POST", "/v1/recommend", `{"user_id": "u"}`, &e); w.Code != 503 || e.Code != "unavailable" {
		t.Fatalf("recommend before load: %d %+v", w.Code, e)
	}
	if _, err := s.Reload(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if w := do(t, h, "GET", "/readyz", "", nil); w.Code != 200 || !strings.Contains(w.Body.String(), s.Version()) {
		t.Fatalf("readyz after load: %d %s", w.Code, w.Body)
	}
	user, _ := activeUser(f)
	do(t, h, "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user}), nil)
	do(t, h, "POST", "/v1/events", `{"user_id": "u", "item_id": "i"}`, nil)
	w := do(t, h, "GET", "/metrics", "", nil)
	body := w.Body.String()
	for _, want := range []string{
		`cascade_http_requests_total{code="200",route="/v1/recommend"} 1`,
		`cascade_http_request_duration_seconds_bucket{route="/v1/recommend"`,
		`cascade_stage_duration_seconds_bucket{stage="lgbm"`,
		`cascade_model_info{created=`,
		`version="` + s.Version() + `"} 1`,
		`cascade_events_ingested_total 1`,
		`cascade_events_unknown_items_total 1`,
		`cascade_history_users 0`, // the event's item is unknown: logged, not in memory
		`cascade_history_max_bytes`,
		`cascade_errors_total{class="unavailable"} 1`,
		`cascade_recommendations_total{kind="personal"} 1`,
		`process_resident_memory_bytes`,
		`go_memstats_heap_inuse_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if w := do(t, h, "GET", "/openapi.json", "", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"openapi": "3.0.3"`) {
		t.Fatalf("openapi: %d", w.Code)
	}
}

func TestReloadRefusesBadBundlesAndKeepsServing(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	admin := s.AdminHandler()
	v0 := s.Version()
	user, _ := activeUser(f)

	damaged := copyDir(t, f.bundle)
	man, err := os.ReadFile(filepath.Join(damaged, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var victim string
	for _, e := range mustEntries(t, damaged) {
		if strings.HasPrefix(e, "ials") {
			victim = filepath.Join(damaged, e)
		}
	}
	b, _ := os.ReadFile(victim)
	b[len(b)/2] ^= 0xff
	os.WriteFile(victim, b, 0o644)

	foreign := t.TempDir() // a bundle trained on other data
	os.WriteFile(filepath.Join(foreign, "manifest.json"), []byte(strings.Replace(string(man), `"fingerprint": "`, `"fingerprint": "00`, 1)), 0o644)

	for _, tc := range []struct{ dir, want string }{
		{damaged, "checksum"},
		{foreign, "was trained on"},
		{t.TempDir(), "manifest.json"},
		{filepath.Join(t.TempDir(), "missing"), "not a bundle directory under the bundle root"},
	} {
		var e apiError
		w := do(t, admin, "POST", "/admin/reload?models="+tc.dir, "", &e)
		status := 422
		if strings.Contains(tc.want, "bundle root") {
			status = 403 // the same answer whether the directory exists or not
		}
		if w.Code != status || e.Code != "bundle_refused" || !strings.Contains(e.Msg, tc.want) {
			t.Errorf("reload %s: %d %+v, want %d naming %q", tc.dir, w.Code, e, status, tc.want)
		}
		var resp recommendResponse
		if w := do(t, s.Handler(), "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user}), &resp); w.Code != 200 || resp.ModelVersion != v0 || len(resp.Items) == 0 {
			t.Fatalf("after a refused reload: %d %s", w.Code, w.Body)
		}
	}
	if n := value(s.metrics.reloads.WithLabelValues("refused")); n != 4 {
		t.Errorf("refused reloads %v", n)
	}
	// A good bundle in another directory is taken, and a later reload without a directory
	// reloads that one.
	good := copyDir(t, f.bundle)
	var ok map[string]any
	if w := do(t, admin, "POST", "/admin/reload?models="+good, "", &ok); w.Code != 200 || ok["model_version"] != v0 || ok["previous_version"] != v0 {
		t.Fatalf("good reload: %d %s", w.Code, w.Body)
	}
	os.RemoveAll(good)
	if w := do(t, admin, "POST", "/admin/reload", "", nil); w.Code != 422 {
		t.Fatalf("reload of the removed directory: %d %s", w.Code, w.Body)
	}
}

func mustEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// Requests keep being answered, by one bundle or the other, while bundles are swapped.
func TestReloadUnderConcurrentLoad(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	other := copyDir(t, f.bundle)
	// Give the copy its own version (the manifest hash is part of it).
	man, _ := os.ReadFile(filepath.Join(other, "manifest.json"))
	os.WriteFile(filepath.Join(other, "manifest.json"), append(man, '\n'), 0o644)
	user, _ := activeUser(f)
	body := mustJSON(map[string]any{"user_id": user, "k": 5})

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var answered, failed atomic.Int64
	versions := sync.Map{}
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				var resp recommendResponse
				w := do(t, s.Handler(), "POST", "/v1/recommend", body, &resp)
				if w.Code != 200 || len(resp.Items) != 5 {
					failed.Add(1)
					continue
				}
				versions.Store(resp.ModelVersion, true)
				answered.Add(1)
			}
		})
	}
	for i := range 6 {
		dir := f.bundle
		if i%2 == 0 {
			dir = other
		}
		if w := do(t, s.AdminHandler(), "POST", "/admin/reload?models="+dir, "", nil); w.Code != 200 {
			t.Errorf("reload %d: %d %s", i, w.Code, w.Body)
		}
	}
	// And a refused one in the middle of the load.
	if w := do(t, s.AdminHandler(), "POST", "/admin/reload?models="+t.TempDir(), "", nil); w.Code != 422 {
		t.Errorf("empty dir accepted: %d", w.Code)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	wg.Wait()
	n := 0
	versions.Range(func(_, _ any) bool { n++; return true })
	t.Logf("%d answers during 6 reloads, %d versions seen", answered.Load(), n)
	if failed.Load() != 0 || answered.Load() == 0 {
		t.Fatalf("%d failed, %d answered", failed.Load(), answered.Load())
	}
}

func TestDeadlineDegradesToFallback(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	s.cfg.RequestTimeout = time.Nanosecond // after the load: the smoke request had its own
	user, _ := activeUser(f)
	var resp recommendResponse
	w := do(t, s.Handler(), "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user, "k": 5}), &resp)
	if w.Code != 200 || !resp.Degraded || !resp.Fallback || len(resp.Items) != 5 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if resp.Stages[0].Name != "deadline" || !resp.Stages[0].Fallback || resp.Stages[0].Error == "" {
		t.Fatalf("stages %+v", resp.Stages)
	}
	if n := value(s.metrics.errors.WithLabelValues("deadline")); n != 1 {
		t.Fatalf("deadline errors %v", n)
	}
}

func TestOverloadDegradesToFallback(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, func(c *Config) { c.MaxConcurrent = 1 })
	s.cfg.RequestTimeout = 20 * time.Millisecond
	s.slots <- struct{}{} // a request that never ends holds the only slot
	user, _ := activeUser(f)
	var resp recommendResponse
	w := do(t, s.Handler(), "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user, "k": 5}), &resp)
	<-s.slots
	if w.Code != 200 || !resp.Degraded || len(resp.Items) != 5 || resp.Stages[0].Name != "overload" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if n := value(s.metrics.errors.WithLabelValues("overload")); n != 1 {
		t.Fatalf("overload errors %v", n)
	}
}

func TestServedLog(t *testing.T) {
	f := ranked(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "served.jsonl")
	s := newServer(t, f, func(c *Config) { c.ServedLog = ServedLogConfig{Path: path, MaxBytes: 8 << 10, Keep: 2} })
	user, _ := activeUser(f)
	var ids []string
	for i := range 12 {
		var resp recommendResponse
		do(t, s.Handler(), "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user, "k": 5, "explain": i == 0}), &resp)
		ids = append(ids, resp.RequestID)
	}
	s.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "served*.jsonl"))
	if len(files) < 2 || len(files) > 3 {
		t.Fatalf("files %v: want rotation keeping 2", files)
	}
	if got := s.served.written.Load(); got != 12 {
		t.Fatalf("%d lines written", got)
	}
	var all string
	for _, p := range files {
		b, _ := os.ReadFile(p)
		all += string(b)
	}
	if !strings.Contains(all, ids[len(ids)-1]) || !strings.Contains(all, `"position":5`) || !strings.Contains(all, `"user_id":"`+user+`"`) {
		t.Fatalf("the last request is not logged: %.400s", all)
	}

	// The queue never blocks: when full, entries are dropped and counted.
	l := &servedLog{ch: make(chan *servedlog.Entry, 1)}
	for range 3 {
		l.add(&servedlog.Entry{})
	}
	if l.dropped.Load() != 2 {
		t.Fatalf("dropped %d", l.dropped.Load())
	}
}

// Run serves on real listeners, and a cancelled context drains and flushes: events posted
// before the shutdown are in the store when it is opened again.
func TestRunShutdownKeepsEvents(t *testing.T) {
	f := ranked(t)
	state := t.TempDir()
	addrs := make(chan [2]net.Addr, 1)
	cfg := Config{
		Pipeline: f.cfg, Dataset: f.ds, Models: f.bundle, Logger: quietLogger(),
		Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		MaxConcurrent: 1, RequestTimeout: 300 * time.Millisecond, Drain: -1,
		OnListen: func(p, a net.Addr) { addrs <- [2]net.Addr{p, a} },
	}
	cfg.History.Dir = state
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var a [2]net.Addr
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatal(err)
	}
	_, seen := activeUser(f)
	base := "http://" + a[0].String()
	resp, err := http.Post(base+"/v1/events", "application/json", strings.NewReader(mustJSON(map[string]any{"user_id": "run-user", "item_id": seen[0]})))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	// Admin routes are not on the public listener, and are on the admin one.
	if resp, _ := http.Post(base+"/admin/reload", "", nil); resp.StatusCode != 404 {
		t.Fatalf("admin route on the public listener: %d", resp.StatusCode)
	}
	if resp, _ := http.Post("http://"+a[1].String()+"/admin/reload", "", nil); resp.StatusCode != 200 {
		t.Fatalf("admin reload: %d", resp.StatusCode)
	}
	// A request in flight when the shutdown starts is answered: it waits for the only pipeline
	// slot (held here) until its deadline, then gets the fallback list.
	s.slots <- struct{}{}
	inflight := make(chan int, 1)
	go func() {
		body := mustJSON(map[string]any{"user_id": "run-user"})
		resp, err := http.Post(base+"/v1/recommend", "application/json", strings.NewReader(body))
		if err != nil {
			inflight <- 0
			return
		}
		resp.Body.Close()
		inflight <- resp.StatusCode
	}()
	for value(s.metrics.inFlight) == 0 { // until the request waits for the slot
		time.Sleep(time.Millisecond)
	}
	cancel()
	if code := <-inflight; code != 200 {
		t.Fatalf("in-flight request during shutdown: %d", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-s.slots
	st, err := history.Open(history.Options{Dir: state, Catalog: f.ds.Items, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if h := st.History("run-user", nil); len(h) != 1 {
		t.Fatalf("history after restart %v", h)
	}
}

func TestAdminAddrMustBeLoopback(t *testing.T) {
	f := ranked(t)
	for addr, ok := range map[string]bool{"127.0.0.1:9090": true, "[::1]:9090": true, "localhost:1": true, ":9090": false, "0.0.0.0:9090": false, "10.1.2.3:9090": false} {
		_, err := New(Config{Pipeline: f.cfg, Dataset: f.ds, Models: f.bundle, AdminAddr: addr, Logger: quietLogger()})
		if (err == nil) != ok {
			t.Errorf("admin %s: %v", addr, err)
		}
	}
	s, err := New(Config{Pipeline: f.cfg, Dataset: f.ds, Models: f.bundle, AdminAddr: ":9090", PublicAdmin: true, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := newServer(t, ranked(t), nil)
	doc := map[string]map[string]any{}
	if err := jsonUnmarshalPaths(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, h := range []http.Handler{s.Handler(), s.AdminHandler()} {
		walkRoutes(t, h, func(method, route string) {
			seen[route] = true
			m, ok := doc[route]
			if !ok {
				t.Errorf("route %s is not in openapi.json", route)
				return
			}
			if method == "*" {
				method = "get"
			}
			if _, ok := m[strings.ToLower(method)]; !ok {
				t.Errorf("%s %s is not in openapi.json", method, route)
			}
		})
	}
	for p := range doc {
		if !seen[p] {
			t.Errorf("openapi.json documents %s, which no handler serves", p)
		}
	}
}
