package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/synth"
)

// The test pipelines: a small full design (two sources → features → LightGBM) and one with a
// two-tower source for similar items. Both train in seconds on synth.Small.
const (
	rankedPipeline = `name: srv-test
models:
  ials:
    type: ials
    params: {factors: 8, alpha: 2, reg: 3, iterations: 5, solver: cg}
  pop:
    type: popularity
retrieve:
  sources:
    - {model: ials, k: 60}
    - {model: pop, k: 20}
features: {}
rankers:
  - {name: lgbm, type: lightgbm, params: {trees: 10, min_data_in_leaf: 10}}
ranking_data: {max_requests: 300, negatives: 30}
final: {k: 30}
`
	towerPipeline = `name: srv-tower
models:
  tower:
    type: twotower
    params: {dim: 8, heads: 1, history_len: 10, epochs: 1}
  pop:
    type: popularity
retrieve:
  sources:
    - {model: tower, k: 40}
final: {k: 20}
`
)

type fixture struct {
	ds     *dataset.Dataset
	cfg    *pipeline.Config
	bundle string // trained bundle directory (do not modify: copy it)
}

var (
	tempMu    sync.Mutex
	tempDirs  []string // made by the fixtures; removed by TestMain
	worldOnce = sync.OnceValues(func() (*dataset.Dataset, error) {
		dir, err := os.MkdirTemp("", "cascade-server-test-")
		if err != nil {
			return nil, err
		}
		keepTemp(dir)
		c := synth.Small(1)
		c.Impressions = 0
		w, err := synth.Generate(context.Background(), c)
		if err != nil {
			return nil, err
		}
		if err := w.WriteDir(dir); err != nil {
			return nil, err
		}
		return dataset.Load(dir, dataset.LoadOptions{})
	})
	rankedOnce = sync.OnceValues(func() (*fixture, error) { return trainFixture(rankedPipeline) })
	towerOnce  = sync.OnceValues(func() (*fixture, error) { return trainFixture(towerPipeline) })
)

func trainFixture(yaml string) (*fixture, error) {
	ds, err := worldOnce()
	if err != nil {
		return nil, err
	}
	cfg, err := pipeline.ParseConfig("test.yaml", []byte(yaml))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "cascade-server-bundle-")
	if err != nil {
		return nil, err
	}
	keepTemp(dir)
	opt := pipeline.Options{Logger: quietLogger(), Progress: progress.Options{Disabled: true}}
	if _, err := pipeline.Train(context.Background(), cfg, ds, dir, opt); err != nil {
		return nil, err
	}
	return &fixture{ds: ds, cfg: cfg, bundle: dir}, nil
}

func keepTemp(dir string) {
	tempMu.Lock()
	tempDirs = append(tempDirs, dir)
	tempMu.Unlock()
}

func ranked(t testing.TB) *fixture {
	t.Helper()
	f, err := rankedOnce()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tower(t testing.TB) *fixture {
	t.Helper()
	f, err := towerOnce()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newServer builds a server on f's bundle with its state in a temporary directory, loads the
// bundle, and checks at cleanup that no handler panicked.
func newServer(t *testing.T, f *fixture, edit func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		Pipeline: f.cfg, Dataset: f.ds, Models: f.bundle,
		RequestTimeout: 2e9, // generous: -race and a loaded machine
		Logger:         quietLogger(),
		Bundles:        os.TempDir(), // the fixtures' and tests' bundles live under it
	}
	cfg.History.Dir = filepath.Join(t.TempDir(), "history")
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if n := value(s.metrics.errors.WithLabelValues("panic")); n != 0 {
			t.Errorf("%v handler panics", n)
		}
	})
	if _, err := s.Reload(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	return s
}

// do sends one request to h and decodes a JSON answer into out (when not nil).
func do(t testing.TB, h http.Handler, method, target, body string, out any) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.Host = "127.0.0.1:9090" // the admin listener refuses names (DNS rebinding)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, target, w.Code, w.Body.String(), err)
		}
	}
	return w
}

func mustJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return b.String()
}

// activeUser returns the external ID of the user of the data set's last event and that user's
// seeded history (item IDs).
func activeUser(f *fixture) (string, []string) {
	last := f.ds.Events[len(f.ds.Events)-1]
	var items []string
	for _, e := range f.ds.Events {
		if e.User == last.User {
			items = append(items, f.ds.Items.String(e.Item))
		}
	}
	return f.ds.Users.String(last.User), items
}

// copyDir copies a bundle directory (flat).
func copyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
