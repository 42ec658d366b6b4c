package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

const servePipeline = `name: serve-test
models:
  ials:
    type: ials
    params: {factors: 8, alpha: 2, reg: 3, iterations: 5, solver: cg}
  pop:
    type: popularity
retrieve:
  sources:
    - {model: ials, k: 50}
    - {model: pop, k: 20}
final: {k: 20}
`

// The serve command end to end: a trained bundle served on real listeners, events, a
// recommendation that sees them, a SIGHUP reload, and a clean stop that keeps the events.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	world := filepath.Join(dir, "world")
	if _, errs, code := runCLI(t, "--quiet", "gen", "--out", world, "--users", "200", "--items", "150", "--events", "6000", "--impressions", "0", "--seed", "2"); code != 0 {
		t.Fatalf("gen: %s", errs)
	}
	cfgPath := filepath.Join(dir, "p.yaml")
	os.WriteFile(cfgPath, []byte(servePipeline), 0o644)
	bundle := filepath.Join(dir, "bundle")
	if _, errs, code := runCLI(t, "--quiet", "train", "--config", cfgPath, "--data", world, "--out", bundle); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &Globals{Ctx: ctx, Log: slog.New(slog.NewTextHandler(&logs, nil)), Stdout: io.Discard}
	ds, err := cfg.LoadData(ctx, world, "", g.Log)
	if err != nil {
		t.Fatal(err)
	}
	o := serveOptions{
		Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Timeout: 2 * time.Second, MaxBody: 1 << 20,
		State: filepath.Join(dir, "state"), HistoryPerUser: 100, HistoryMaxMB: 16, HistorySync: "always",
		ServedLogMaxMB: 1, ShutdownTimeout: 5 * time.Second,
	}
	addrs := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(g, cfg, ds, bundle, o, func(p, a net.Addr) { addrs <- [2]string{p.String(), a.String()} })
	}()
	var a [2]string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	public, admin := "http://"+a[0], "http://"+a[1]
	post := func(url, body string, out any) int {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	item := ds.Items.String(ds.Events[0].Item)
	if code := post(public+"/v1/events", `{"user_id": "cli-user", "item_id": "`+item+`"}`, nil); code != 200 {
		t.Fatalf("events: %d", code)
	}
	var rec struct {
		Fallback bool `json:"fallback"`
		Items    []struct {
			ItemID string `json:"item_id"`
		} `json:"items"`
	}
	if code := post(public+"/v1/recommend", `{"user_id": "cli-user", "k": 5}`, &rec); code != 200 || rec.Fallback || len(rec.Items) != 5 {
		t.Fatalf("recommend: %d %+v", code, rec)
	}
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "SIGHUP: model bundle reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `cascade_reloads_total{result="ok"} 2`) {
		t.Errorf("metrics after SIGHUP:\n%s", metrics)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	served, err := os.ReadFile(filepath.Join(dir, "state", "served.jsonl"))
	if err != nil || !bytes.Contains(served, []byte(`"user_id":"cli-user"`)) {
		t.Fatalf("served log: %v %.200s", err, served)
	}
	if _, err := os.Stat(filepath.Join(dir, "state", "history", "events.log")); err != nil {
		t.Fatal(err)
	}
}

func TestServeFlagsAndErrors(t *testing.T) {
	var c cli
	parser, err := kong.New(&c, kong.Name("cascade"), gbdtDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse([]string{"serve", "--config", "ials.yaml", "--models", "m"}); err != nil {
		t.Fatal(err)
	}
	if o := c.Serve.serveOptions; o.Addr != ":8080" || o.AdminAddr != "127.0.0.1:9090" || o.Timeout != 100*time.Millisecond ||
		o.HistorySync != "always" || o.HistoryPerUser != 200 || o.State != "cascade-state" || o.HistoryMemory {
		t.Errorf("defaults %+v", o)
	}
	_, errs, code := runCLI(t, "--quiet", "serve", "--config", "no-such.yaml", "--models", t.TempDir())
	if code == 0 || !strings.Contains(errs, "no-such.yaml") {
		t.Fatalf("missing config: %d %s", code, errs)
	}
	_, errs, code = runCLI(t, "serve", "--config", "ials.yaml", "--models", t.TempDir(), "--history-sync", "sometimes")
	if code == 0 || !strings.Contains(errs, "history-sync") {
		t.Fatalf("bad enum: %d %s", code, errs)
	}
	world := filepath.Join(t.TempDir(), "world")
	if _, errs, code := runCLI(t, "--quiet", "gen", "--out", world, "--users", "50", "--items", "40", "--events", "500", "--impressions", "0"); code != 0 {
		t.Fatalf("gen: %s", errs)
	}
	base := []string{"--quiet", "serve", "--config", "ials.yaml", "--data", world, "--models", t.TempDir(), "--state", t.TempDir(), "--addr", "127.0.0.1:0"}
	_, errs, code = runCLI(t, append(base, "--admin-addr", "0.0.0.0:9999")...)
	if code == 0 || !strings.Contains(errs, "not loopback") {
		t.Fatalf("public admin address: %d %s", code, errs)
	}
	_, errs, code = runCLI(t, append(base, "--admin-addr", "")...)
	if code == 0 || !strings.Contains(errs, "manifest.json") {
		t.Fatalf("empty bundle directory: %d %s", code, errs)
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines to log into while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
