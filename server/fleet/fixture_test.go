package fleet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/server"
	"github.com/cascade-rec/cascade/server/history"
	"github.com/cascade-rec/cascade/server/internal/redistest"
	"github.com/cascade-rec/cascade/synth"
)

// fleetPipeline trains in about a second on synth.Small: a personal source (iALS, which reads
// the history) and popularity.
const fleetPipeline = `name: fleet
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
final: {k: 30}
`

// world is the data set and the bundle root the replicas share: v1 (trained), v2 (the same
// models under another version) and bad (a model file damaged: refused by its checksum).
type world struct {
	dataDir string
	ds      *dataset.Dataset
	cfg     *pipeline.Config
	root    string
}

var (
	tempMu   sync.Mutex
	temps    []string
	theWorld = sync.OnceValues(buildWorld)
)

func tempDir(pattern string) (string, error) {
	d, err := os.MkdirTemp("", pattern)
	if err == nil {
		tempMu.Lock()
		temps = append(temps, d)
		tempMu.Unlock()
	}
	return d, err
}

func TestMain(m *testing.M) {
	if raw := os.Getenv(childEnv); raw != "" {
		os.Exit(runChild(raw))
	}
	code := m.Run()
	for _, d := range temps {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

func buildWorld() (*world, error) {
	w := &world{}
	var err error
	if w.dataDir, err = tempDir("cascade-fleet-data-"); err != nil {
		return nil, err
	}
	c := synth.Small(1)
	c.Impressions = 0
	sw, err := synth.Generate(context.Background(), c)
	if err != nil {
		return nil, err
	}
	if err := sw.WriteDir(w.dataDir); err != nil {
		return nil, err
	}
	if w.ds, w.cfg, err = loadWorld(w.dataDir); err != nil {
		return nil, err
	}
	if w.root, err = tempDir("cascade-fleet-bundles-"); err != nil {
		return nil, err
	}
	v1 := filepath.Join(w.root, "v1")
	opt := pipeline.Options{Logger: quiet(), Progress: progress.Options{Disabled: true}}
	if _, err := pipeline.Train(context.Background(), w.cfg, w.ds, v1, opt); err != nil {
		return nil, err
	}
	// v2: the same models; the manifest's bytes differ, and so does the version.
	if err := copyDir(v1, filepath.Join(w.root, "v2"), func(name string, b []byte) []byte {
		if name == "manifest.json" {
			return append(b, '\n')
		}
		return b
	}); err != nil {
		return nil, err
	}
	// bad: one byte of the iALS model flipped.
	damaged := false
	if err := copyDir(v1, filepath.Join(w.root, "bad"), func(name string, b []byte) []byte {
		if strings.HasPrefix(name, "ials") && len(b) > 0 {
			b[len(b)/2] ^= 0xff
			damaged = true
		}
		return b
	}); err != nil {
		return nil, err
	}
	if !damaged {
		return nil, fmt.Errorf("no ials file in the bundle to damage")
	}
	return w, nil
}

func loadWorld(dir string) (*dataset.Dataset, *pipeline.Config, error) {
	ds, err := dataset.Load(dir, dataset.LoadOptions{})
	if err != nil {
		return nil, nil, err
	}
	cfg, err := pipeline.ParseConfig("fleet.yaml", []byte(fleetPipeline))
	return ds, cfg, err
}

func copyDir(src, dst string, edit func(name string, b []byte) []byte) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), edit(e.Name(), b), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func getWorld(t testing.TB) *world {
	t.Helper()
	w, err := theWorld()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// replica is an in-process server on loopback listeners.
type replica struct {
	s             *server.Server
	public, admin string
	log           *redistest.SyncBuffer
	cancel        context.CancelFunc
	done          chan error
}

// startReplica runs a server with its live history in redisURL, serving the bundle v1 of the
// world's bundle root, until the test ends.
func startReplica(t *testing.T, w *world, redisURL string, edit func(*server.Config)) *replica {
	t.Helper()
	r := &replica{log: &redistest.SyncBuffer{}, done: make(chan error, 1)}
	listening := make(chan struct{})
	cfg := server.Config{
		Pipeline: w.cfg, Dataset: w.ds, Models: filepath.Join(w.root, "v1"), Bundles: w.root,
		Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Drain: -1,
		RequestTimeout: 300 * time.Millisecond,
		Redis:          history.RedisOptions{URL: redisURL},
		Logger:         slog.New(slog.NewTextHandler(r.log, nil)),
		OnListen: func(public, admin net.Addr) {
			r.public, r.admin = "http://"+public.String(), "http://"+admin.String()
			close(listening)
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- s.Run(ctx) }()
	select {
	case <-listening:
	case err := <-r.done:
		t.Fatalf("replica stopped at start: %v\n%s", err, r.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("replica did not listen in 60 s\n%s", r.log)
	}
	t.Cleanup(r.stop)
	return r
}

// stop ends the replica and waits for Run to return.
func (r *replica) stop() {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		panic("a replica did not stop in 20 s")
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// answer is the part of a recommendation the tests read.
type answer struct {
	ModelVersion string `json:"model_version"`
	UserKnown    bool   `json:"user_known"`
	HistoryLen   int    `json:"history_len"`
	Fallback     bool   `json:"fallback"`
	Degraded     bool   `json:"degraded"`
	Items        []struct {
		ItemID string `json:"item_id"`
	} `json:"items"`
	Warnings []string `json:"warnings"`
	Code     string   `json:"code"`
}

func (a answer) itemIDs() []string {
	var ids []string
	for _, it := range a.Items {
		ids = append(ids, it.ItemID)
	}
	return ids
}

// post sends a JSON body and decodes the answer (when it is JSON) into out.
func post(base, path, body string, out any) (int, error) {
	resp, err := client.Post(base+path, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%d %q: %w", resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, nil
}

func recommend(t *testing.T, base, user string, k int) answer {
	t.Helper()
	var a answer
	code, err := post(base, "/v1/recommend", fmt.Sprintf(`{"user_id": %q, "k": %d}`, user, k), &a)
	if err != nil || code != 200 {
		t.Fatalf("recommend %s on %s: %d %v", user, base, code, err)
	}
	return a
}

// getJSON decodes a GET answer.
func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %d: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode
}

// metric reads one series from a listener's /metrics: its name with labels, as printed.
func metric(t *testing.T, base, series string) (float64, bool) {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// eventually polls cond every 20 ms until it holds, failing after limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
