package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ?models= is confined to the bundle root: a path outside it, a symlink leading out of it and a
// directory that does not exist get the same answer, which reveals nothing about the file system.
func TestReloadConfinedToBundleRoot(t *testing.T) {
	f := ranked(t)
	root := t.TempDir()
	inside := filepath.Join(root, "v2")
	if err := os.Rename(copyDir(t, f.bundle), inside); err != nil {
		t.Fatal(err)
	}
	outside := copyDir(t, f.bundle) // a good bundle, but not under the root
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	s := newServer(t, f, func(c *Config) { c.Bundles, c.Models = root, inside })
	admin := s.AdminHandler()
	var msgs []string
	for _, dir := range []string{"../../../etc", "/etc", outside, "escape", "no-such-bundle", "../" + filepath.Base(outside)} {
		var e apiError
		if w := do(t, admin, "POST", "/admin/reload?models="+dir, "", &e); w.Code != 403 || e.Code != "bundle_refused" {
			t.Fatalf("reload %s: %d %+v, want 403", dir, w.Code, e)
		}
		msgs = append(msgs, strings.ReplaceAll(e.Msg, dir, "DIR"))
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Fatalf("refusals differ (they would reveal the file system): %q vs %q", m, msgs[0])
		}
	}
	if w := do(t, admin, "POST", "/admin/reload?models=v2", "", nil); w.Code != 200 {
		t.Fatalf("reload of a bundle inside the root: %d %s", w.Code, w.Body)
	}
	// Without a root only the current directory reloads.
	s2 := newServer(t, f, func(c *Config) { c.Bundles = "" })
	if w := do(t, s2.AdminHandler(), "POST", "/admin/reload?models="+inside, "", nil); w.Code != 403 || !strings.Contains(w.Body.String(), "--bundles") {
		t.Fatalf("reload without a bundle root: %d %s", w.Code, w.Body)
	}
	if w := do(t, s2.AdminHandler(), "POST", "/admin/reload", "", nil); w.Code != 200 {
		t.Fatalf("reload of the current bundle: %d %s", w.Code, w.Body)
	}
	// A bundle root that does not hold the served bundle is a configuration error.
	cfg := Config{Pipeline: f.cfg, Dataset: f.ds, Models: f.bundle, Bundles: root, Logger: quietLogger()}
	cfg.History.Dir = t.TempDir()
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "outside the bundle root") {
		t.Fatalf("models outside the root: %v", err)
	}
}

// A FIFO planted in a bundle is refused at once; a reload that overruns its deadline is refused
// and does not hold back the next one.
func TestReloadCannotHang(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	fifo := copyDir(t, f.bundle)
	os.Remove(filepath.Join(fifo, "manifest.json"))
	if err := syscall.Mkfifo(filepath.Join(fifo, "manifest.json"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan int, 1)
	go func() { done <- do(t, s.AdminHandler(), "POST", "/admin/reload?models="+fifo, "", nil).Code }()
	select {
	case code := <-done:
		if code != 422 {
			t.Fatalf("FIFO manifest: %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a reload blocked on a FIFO manifest")
	}

	s.cfg.ReloadTimeout = time.Nanosecond
	if _, err := s.Reload(context.Background(), ""); err == nil {
		t.Fatal("a reload past its deadline was taken")
	}
	s.cfg.ReloadTimeout = time.Minute
	if _, err := s.Reload(context.Background(), ""); err != nil {
		t.Fatalf("the reload after an overrun one: %v", err)
	}
	// A reload that waits behind a running one gives up at its deadline, with its own error.
	s.reloadSem <- struct{}{}
	s.cfg.ReloadTimeout = 20 * time.Millisecond
	_, err := s.Reload(context.Background(), "")
	<-s.reloadSem
	if !errors.Is(err, ErrReloadBusy) {
		t.Fatalf("busy reload: %v", err)
	}
}

func TestAdminGuard(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, func(c *Config) { c.AdminToken = "s3cret" })
	admin := s.AdminHandler()
	send := func(host, auth, origin string) int {
		r, _ := http.NewRequest("GET", "/healthz", nil)
		r.Host = host
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		admin.ServeHTTP(w, r)
		return w.Code
	}
	for _, tc := range []struct {
		host, auth, origin string
		want               int
	}{
		{"127.0.0.1:9090", "Bearer s3cret", "", 200},
		{"localhost:9090", "Bearer s3cret", "http://localhost:9090", 200},
		{"[::1]:9090", "Bearer s3cret", "", 200},
		{"127.0.0.1:9090", "", "", 401},
		{"127.0.0.1:9090", "Bearer wrong", "", 401},
		{"127.0.0.1:9090", "s3cret", "", 401},
		{"rebind.attacker.example:9090", "Bearer s3cret", "", 403},
		{"127.0.0.1:9090", "Bearer s3cret", "http://attacker.example", 403},
	} {
		if got := send(tc.host, tc.auth, tc.origin); got != tc.want {
			t.Errorf("host %s auth %q origin %q: %d, want %d", tc.host, tc.auth, tc.origin, got, tc.want)
		}
	}
}

// The public listener shows the model version, not the bundle's path, and its metrics count no
// admin or pprof traffic.
func TestPublicSurfaceShowsNoAdminDetail(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	do(t, s.AdminHandler(), "GET", "/debug/pprof/cmdline", "", nil)
	do(t, s.AdminHandler(), "POST", "/admin/reload", "", nil)
	pub := do(t, s.Handler(), "GET", "/readyz", "", nil).Body.String()
	if strings.Contains(pub, f.bundle) || strings.Contains(pub, "models") || !strings.Contains(pub, s.Version()) {
		t.Fatalf("public readyz: %s", pub)
	}
	if adm := do(t, s.AdminHandler(), "GET", "/readyz", "", nil).Body.String(); !strings.Contains(adm, f.bundle) {
		t.Fatalf("admin readyz lacks the bundle: %s", adm)
	}
	metrics := do(t, s.Handler(), "GET", "/metrics", "", nil).Body.String()
	if strings.Contains(metrics, "pprof") || strings.Contains(metrics, "/admin") {
		t.Fatalf("public metrics show admin traffic")
	}
	am := do(t, s.AdminHandler(), "GET", "/metrics", "", nil).Body.String()
	if !strings.Contains(am, `cascade_admin_requests_total{code="200",route="/debug/pprof/cmdline"} 1`) || !strings.Contains(am, "cascade_recommendations_total") && !strings.Contains(am, "cascade_model_info") {
		t.Fatalf("admin metrics lack the admin traffic or the service's series")
	}
}

// At shutdown a client polling /readyz sees 503 before the listener closes.
func TestShutdownDrainFailsReadinessFirst(t *testing.T) {
	f := ranked(t)
	addrs := make(chan net.Addr, 1)
	cfg := Config{
		Pipeline: f.cfg, Dataset: f.ds, Models: f.bundle, Logger: quietLogger(),
		Addr: "127.0.0.1:0", Drain: 500 * time.Millisecond,
		OnListen: func(p, _ net.Addr) { addrs <- p },
	}
	cfg.History.Dir = t.TempDir()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var url string
	select {
	case a := <-addrs:
		url = "http://" + a.String() + "/readyz"
	case err := <-done:
		t.Fatal(err)
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	poll := func() int {
		resp, err := client.Get(url)
		if err != nil {
			return 0 // refused: the listener is closed
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := poll(); c != 200 {
		t.Fatalf("readyz before shutdown: %d", c)
	}
	cancel()
	var seen503 bool
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c := poll()
		if c == 503 {
			seen503 = true
		}
		if c == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !seen503 {
		t.Fatal("the listener closed before /readyz answered 503")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
