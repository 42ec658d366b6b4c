//go:build fault

// The fault suite: the durability promises of the history store and the served log, checked
// against a real server in a child process (this test binary, re-executed) on 127.0.0.1.
//
//	go test -tags fault -v -run TestFault ./server/
//
// It kills the child with SIGKILL while clients post events, at every --history-sync setting;
// damages its log (a torn tail, a corrupt middle record, a corrupt length byte, a corrupt
// header) and restarts it; and fills its disk (a 1 MiB tmpfs, when this process may mount one)
// then frees it. It prints a table: fault → events acknowledged / kept / lost, requests failed.
// Every run stops by itself (bounded loops and deadlines).
package server

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/server/history"
	"github.com/cascade-rec/cascade/synth"
)

// faultPipeline trains in a blink: the suite is about the state directory, not the models.
const faultPipeline = `name: fault
models:
  pop:
    type: popularity
retrieve:
  sources:
    - {model: pop, k: 50}
final: {k: 20}
`

// childConfig is what the parent tells a child server (as JSON in CASCADE_FAULT_CHILD).
type childConfig struct {
	World, Bundle, State, Sync string
	Bundles                    string        // the bundle root ("" : none)
	Drain                      time.Duration // 0: none
	Timeout                    time.Duration // the request deadline (0: 2 s)
}

// TestFaultChild is the child server; it runs only when re-executed by the suite. It serves
// until SIGTERM (a clean stop) or SIGKILL.
func TestFaultChild(t *testing.T) {
	raw := os.Getenv("CASCADE_FAULT_CHILD")
	if raw == "" {
		t.Skip("the fault suite's child server (run by TestFault)")
	}
	var cc childConfig
	if err := json.Unmarshal([]byte(raw), &cc); err != nil {
		t.Fatal(err)
	}
	ds, pc := loadFaultWorld(t, cc.World)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg := Config{
		Pipeline: pc, Dataset: ds, Models: cc.Bundle,
		Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		RequestTimeout: cmp.Or(cc.Timeout, 2*time.Second), Drain: cmp.Or(cc.Drain, -1), Bundles: cc.Bundles,
		History:   history.Options{Dir: filepath.Join(cc.State, "history"), Sync: history.Sync(cc.Sync), SyncInterval: time.Second},
		ServedLog: ServedLogConfig{Path: filepath.Join(cc.State, "served.jsonl")},
		OnListen: func(public, admin net.Addr) {
			fmt.Printf("LISTEN %s %s\n", public, admin)
		},
	}
	s, err := New(cfg)
	if err != nil {
		fmt.Printf("FAILED %v\n", err)
		t.Fatal(err)
	}
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// loadFaultWorld loads the world the parent wrote, and the pipeline file.
func loadFaultWorld(t *testing.T, dir string) (*dataset.Dataset, *pipeline.Config) {
	t.Helper()
	ds, err := dataset.Load(dir, dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := pipeline.ParseConfig("fault.yaml", []byte(faultPipeline))
	if err != nil {
		t.Fatal(err)
	}
	return ds, pc
}

// child is a running child server.
type child struct {
	cmd           *exec.Cmd
	public, admin string
	stderr        *bytes.Buffer
}

func startChild(t *testing.T, cc childConfig) *child {
	t.Helper()
	raw, _ := json.Marshal(cc)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), "CASCADE_FAULT_CHILD="+string(raw))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stderr: &stderr}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "LISTEN ") || strings.HasPrefix(sc.Text(), "FAILED ") {
				lines <- sc.Text()
			}
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		f := strings.Fields(line)
		if !ok || f[0] != "LISTEN" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child did not start: %s\n%s", line, stderr.String())
		}
		c.public, c.admin = "http://"+f[1], "http://"+f[2]
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not listen in 60 s\n%s", stderr.String())
	}
	return c
}

// stop ends the child with SIGTERM (a clean stop: drain, flush, close) and waits.
func (c *child) stop(t *testing.T) {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-done
		t.Fatalf("child did not stop in 30 s\n%s", c.stderr.String())
	}
}

func (c *child) kill() {
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

// metric reads one unlabelled series from the child's admin /metrics.
func (c *child) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(c.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

var faultClient = &http.Client{Timeout: 10 * time.Second}

// poster sends batches of events, one new user per batch, and records what was acknowledged.
type poster struct {
	mu     sync.Mutex
	acked  map[string]int // user → events acknowledged (items f0 … f(n-1))
	sent   atomic.Int64   // events sent
	failed atomic.Int64   // requests that were not a 200
}

const batchEvents = 10

func newPoster() *poster { return &poster{acked: map[string]int{}} }

// post sends one batch for user; it reports whether the server acknowledged it.
func (p *poster) post(base, user string) bool {
	var b strings.Builder
	b.WriteByte('[')
	for i := range batchEvents {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"user_id": %q, "item_id": "f%d", "timestamp": %d}`, user, i, 1700000000+i)
	}
	b.WriteByte(']')
	p.sent.Add(batchEvents)
	resp, err := faultClient.Post(base+"/v1/events", "application/json", strings.NewReader(b.String()))
	if err != nil {
		p.failed.Add(1)
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.failed.Add(1)
		return false
	}
	p.mu.Lock()
	p.acked[user] = batchEvents
	p.mu.Unlock()
	return true
}

func (p *poster) ackedEvents() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked) * batchEvents
}

// faultCatalog knows the items the poster sends (f0, f1, …), so that an offline store keeps
// them in memory for counting.
type faultCatalog struct{}

func (faultCatalog) Lookup(id string) (int32, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "f"))
	return int32(n), err == nil && strings.HasPrefix(id, "f")
}

// kept opens the child's history offline (after it stopped) and counts the acknowledged
// events present.
func (p *poster) kept(t *testing.T, state string) int {
	t.Helper()
	s, err := history.Open(history.Options{
		Dir: filepath.Join(state, "history"), Catalog: faultCatalog{}, PerUser: 1000, MaxBytes: 1 << 30, Logger: quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for u, k := range p.acked {
		have := map[int32]bool{}
		for _, e := range s.History(u, nil) {
			have[e.Item] = true
		}
		for i := range k {
			if have[int32(i)] {
				n++
			}
		}
	}
	return n
}

// faultRow is a line of the table.
type faultRow struct {
	fault             string
	acked, kept, lost int
	failed            int64
	note              string
}

type faultEnv struct {
	world, bundle string
	rows          []faultRow
}

func (env *faultEnv) childConfig(state, sync string) childConfig {
	return childConfig{World: env.world, Bundle: env.bundle, State: state, Sync: sync}
}

func TestFault(t *testing.T) {
	if os.Getenv("CASCADE_FAULT_CHILD") != "" {
		t.Skip("in the child")
	}
	env := &faultEnv{world: t.TempDir(), bundle: t.TempDir()}
	c := synth.Small(1)
	c.Impressions = 0
	w, err := synth.Generate(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteDir(env.world); err != nil {
		t.Fatal(err)
	}
	ds, pc := loadFaultWorld(t, env.world)
	if _, err := pipeline.Train(context.Background(), pc, ds, env.bundle, pipeline.Options{Logger: quietLogger(), Progress: progress.Options{Disabled: true}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var b strings.Builder
		fmt.Fprintf(&b, "\n| fault | events acknowledged | kept | lost | requests failed | note |\n|---|---:|---:|---:|---:|---|\n")
		for _, r := range env.rows {
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s |\n", r.fault, r.acked, r.kept, r.lost, r.failed, r.note)
		}
		t.Log(b.String())
	})
	for _, mode := range []string{"always", "interval", "never"} {
		t.Run("kill9-"+mode, func(t *testing.T) { env.kill9(t, mode) })
	}
	for _, d := range logDamages {
		t.Run(strings.ReplaceAll(d.name, " ", "-"), func(t *testing.T) { env.damage(t, d) })
	}
	t.Run("enospc", env.enospc)
	t.Run("bundle-fifo", env.bundleFIFO)
	t.Run("bundle-outside-root", env.bundleOutside)
	t.Run("shutdown-under-load", env.shutdownUnderLoad)
}

// rootedBundle copies the bundle under a fresh bundle root and returns the root and the copy.
func (env *faultEnv) rootedBundle(t *testing.T) (string, string) {
	root := t.TempDir()
	dir := filepath.Join(root, "current")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	es, _ := os.ReadDir(env.bundle)
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(env.bundle, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
	}
	return root, dir
}

// recommendLoad sends recommendations from 4 clients until stop closes, counting answers by
// status (0: no answer, e.g. the listener closed).
func recommendLoad(base string, stop <-chan struct{}, codes *sync.Map, wg *sync.WaitGroup) {
	body := `{"user_id": "u1", "k": 10}`
	for range 4 {
		wg.Go(func() {
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				code := 0
				if resp, err := faultClient.Post(base+"/v1/recommend", "application/json", strings.NewReader(body)); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				n, _ := codes.LoadOrStore(code, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		})
	}
}

func count(codes *sync.Map, want func(int) bool) int64 {
	var n int64
	codes.Range(func(k, v any) bool {
		if want(k.(int)) {
			n += v.(*atomic.Int64).Load()
		}
		return true
	})
	return n
}

// bundleFIFO plants a FIFO as a bundle's manifest and reloads it under load: the reload is
// refused at once and every request is answered.
func (env *faultEnv) bundleFIFO(t *testing.T) {
	root, _ := env.rootedBundle(t)
	fifo := filepath.Join(root, "fifo")
	os.MkdirAll(fifo, 0o755)
	if err := syscall.Mkfifo(filepath.Join(fifo, "manifest.json"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	cc := env.childConfig(t.TempDir(), "always")
	cc.Bundles, cc.Bundle = root, filepath.Join(root, "current")
	c := startChild(t, cc)
	defer c.stop(t)
	var codes sync.Map
	var wg sync.WaitGroup
	stop := make(chan struct{})
	recommendLoad(c.public, stop, &codes, &wg)
	start := time.Now()
	resp, err := faultClient.Post(c.admin+"/admin/reload?models=fifo", "", nil)
	took := time.Since(start)
	status := 0
	if err == nil {
		resp.Body.Close()
		status = resp.StatusCode
	}
	// A later reload of the good bundle must not queue behind it.
	resp2, err2 := faultClient.Post(c.admin+"/admin/reload?models=current", "", nil)
	status2 := 0
	if err2 == nil {
		resp2.Body.Close()
		status2 = resp2.StatusCode
	}
	close(stop)
	wg.Wait()
	failed := count(&codes, func(c int) bool { return c != 200 })
	env.rows = append(env.rows, faultRow{"FIFO as a bundle's manifest.json, reloaded under load", 0, 0, 0, failed,
		fmt.Sprintf("reload answered %d in %.0f ms; the next reload %d; %d recommendations answered", status, float64(took.Milliseconds()), status2, count(&codes, func(c int) bool { return c == 200 }))})
	if status != 422 || status2 != 200 || failed != 0 || took > 5*time.Second {
		t.Errorf("FIFO reload: %d in %s, next %d, %d failed requests", status, took, status2, failed)
	}
}

// bundleOutside asks for bundles outside the bundle root: refused alike whether they exist.
func (env *faultEnv) bundleOutside(t *testing.T) {
	root, _ := env.rootedBundle(t)
	cc := env.childConfig(t.TempDir(), "always")
	cc.Bundles, cc.Bundle = root, filepath.Join(root, "current")
	c := startChild(t, cc)
	defer c.stop(t)
	var notes []string
	bad := 0
	for _, dir := range []string{"../../../etc", "/etc", env.bundle, "no-such-dir"} {
		resp, err := faultClient.Post(c.admin+"/admin/reload?models="+dir, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		notes = append(notes, fmt.Sprintf("%s → %d", dir, resp.StatusCode))
		if resp.StatusCode != 403 || !strings.Contains(string(body), "not a bundle directory under the bundle root") {
			bad++
		}
	}
	env.rows = append(env.rows, faultRow{"reload of a path outside the bundle root", 0, 0, 0, int64(bad), strings.Join(notes, "; ") + " (one message for all)"})
	if bad != 0 {
		t.Errorf("outside the root: %v", notes)
	}
}

// shutdownUnderLoad stops the child (SIGTERM) while 4 clients ask for recommendations and one
// polls /readyz: the poller must see 503 before the listener closes, and no request may get an
// error status.
func (env *faultEnv) shutdownUnderLoad(t *testing.T) {
	cc := env.childConfig(t.TempDir(), "always")
	cc.Drain = time.Second
	c := startChild(t, cc)
	var codes sync.Map
	var wg sync.WaitGroup
	stop := make(chan struct{})
	recommendLoad(c.public, stop, &codes, &wg)
	time.Sleep(500 * time.Millisecond)
	var ready []int // the poller's statuses, 0 once refused
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
			code := 0
			if resp, err := faultClient.Get(c.public + "/readyz"); err == nil {
				resp.Body.Close()
				code = resp.StatusCode
			}
			if len(ready) == 0 || ready[len(ready)-1] != code {
				ready = append(ready, code)
			}
			if code == 0 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	time.Sleep(200 * time.Millisecond)
	c.stop(t)
	<-pollDone
	close(stop)
	wg.Wait()
	errs := count(&codes, func(c int) bool { return c != 200 && c != 0 })
	env.rows = append(env.rows, faultRow{"SIGTERM under load (drain 1 s)", 0, 0, 0, errs,
		fmt.Sprintf("/readyz seen: %v (0 = refused); %d answered 200, %d error statuses, %d refused after the listener closed", ready, count(&codes, func(c int) bool { return c == 200 }), errs, count(&codes, func(c int) bool { return c == 0 }))})
	seen503 := false
	for i, c := range ready {
		if c == 503 && i+1 < len(ready) && ready[i+1] == 0 {
			seen503 = true
		}
	}
	if !seen503 || errs != 0 {
		t.Errorf("shutdown: readyz sequence %v, %d error statuses", ready, errs)
	}
}

// kill9 posts events from 4 clients and kills the child with SIGKILL at a random moment
// within the first 1.5 s: every acknowledged event must be in the log.
func (env *faultEnv) kill9(t *testing.T, syncMode string) {
	state := t.TempDir()
	c := startChild(t, env.childConfig(state, syncMode))
	p := newPoster()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p.post(c.public, fmt.Sprintf("k%d-%d", g, i))
			}
		})
	}
	time.Sleep(500*time.Millisecond + rand.N(time.Second))
	c.kill()
	close(stop)
	wg.Wait()
	acked := p.ackedEvents()
	kept := p.kept(t, state)
	env.rows = append(env.rows, faultRow{"kill -9 while posting, --history-sync " + syncMode, acked, kept, acked - kept, p.failed.Load(),
		fmt.Sprintf("%d events sent; the failed requests are those cut by the kill", p.sent.Load())})
	if kept != acked || acked == 0 {
		t.Errorf("sync %s: %d acknowledged, %d kept\n%s", syncMode, acked, kept, c.stderr.String())
	}
}

// logDamage changes a log file whose records start at offs.
type logDamage struct {
	name    string
	damage  func(b []byte, offs []int) []byte
	maxLost int // the damaged record (or a torn one: never acknowledged in a real crash)
	aside   bool
}

var logDamages = []logDamage{
	{"torn tail", func(b []byte, offs []int) []byte { return b[:len(b)-7] }, 1, false},
	{"corrupt middle record", func(b []byte, offs []int) []byte { b[offs[len(offs)/2]+12] ^= 0xff; return b }, 1, true},
	{"corrupt length byte", func(b []byte, offs []int) []byte { b[offs[len(offs)/2]] ^= 0x3c; return b }, 1, true},
	{"corrupt header", func(b []byte, offs []int) []byte { b[2] ^= 0x01; b[9] = 'X'; return b }, 0, true},
}

// damage writes 300 batches through a child, stops it cleanly, damages the log, restarts the
// child on it, and counts what survived.
func (env *faultEnv) damage(t *testing.T, d logDamage) {
	state := t.TempDir()
	c := startChild(t, env.childConfig(state, "always"))
	p := newPoster()
	for i := range 300 {
		p.post(c.public, fmt.Sprintf("d-%d", i))
	}
	c.stop(t)
	path := filepath.Join(state, "history", "events.log")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int
	for o := len("CASCADE-EVENTS-1\n"); o+8 <= len(b); o += 8 + int(binary.LittleEndian.Uint32(b[o:])) {
		offs = append(offs, o)
	}
	os.WriteFile(path, d.damage(b, offs), 0o644)
	c = startChild(t, env.childConfig(state, "always"))
	runs := c.metric(t, "cascade_history_log_damaged_runs_total")
	p.post(c.public, "after-repair") // the repaired log takes appends
	c.stop(t)
	acked := p.ackedEvents()
	kept := p.kept(t, state)
	aside, _ := filepath.Glob(path + ".damaged-*")
	env.rows = append(env.rows, faultRow{d.name, acked, kept, acked - kept, p.failed.Load(),
		fmt.Sprintf("damaged runs reported %v; file kept aside: %v", runs, len(aside) == 1)})
	if acked-kept > d.maxLost || acked != 301*batchEvents || d.aside != (len(aside) == 1) || d.aside != (runs > 0) {
		t.Errorf("%s: %d acknowledged, %d kept (at most %d lost), runs %v, aside %v\n%s", d.name, acked, kept, d.maxLost, runs, aside, c.stderr.String())
	}
}

// enospc fills a 1 MiB tmpfs under the child's state, then frees it: events are refused (503)
// while it is full and accepted after, none acknowledged is lost; the served log resumes and
// its counters match its file.
func (env *faultEnv) enospc(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("ENOSPC case skipped: cannot mount a 1 MiB tmpfs here (needs root or CAP_SYS_ADMIN): %v %s", err, out)
	}
	defer func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	}()
	filler := filepath.Join(mnt, "filler")
	os.WriteFile(filler, make([]byte, 1<<20-96<<10), 0o644) // leaves about 96 KiB; tmpfs refuses the rest
	c := startChild(t, env.childConfig(mnt, "always"))
	defer func() {
		if c != nil {
			c.kill()
		}
	}()
	p := newPoster()
	var recOK, recFailed atomic.Int64
	recommend := func() {
		resp, err := faultClient.Post(c.public+"/v1/recommend", "application/json", strings.NewReader(`{"user_id": "enospc-reader", "k": 20}`))
		if err != nil {
			recFailed.Add(1)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			recOK.Add(1)
		} else {
			recFailed.Add(1)
		}
	}
	full := false
	for i := 0; i < 3000 && !full; i++ {
		p.post(c.public, fmt.Sprintf("e-%d", i))
		recommend()
		if i%20 == 19 {
			full = p.failed.Load() > 0 && c.metric(t, "cascade_served_log_write_errors_total") > 0
		}
	}
	if !full {
		t.Fatalf("the disk never filled: %d event batches refused, served log errors %v", p.failed.Load(), c.metric(t, "cascade_served_log_write_errors_total"))
	}
	refused := p.failed.Load()
	writtenFull := c.metric(t, "cascade_served_log_written_total")
	os.Remove(filler) // space freed
	for i := range 50 {
		p.post(c.public, fmt.Sprintf("f-%d", i))
		recommend()
	}
	time.Sleep(2500 * time.Millisecond) // a retry, then a flush tick
	written := c.metric(t, "cascade_served_log_written_total")
	dropped := c.metric(t, "cascade_served_log_dropped_total")
	errs := c.metric(t, "cascade_served_log_write_errors_total")
	lines := len(readLines(t, filepath.Join(mnt, "served.jsonl")))
	c.stop(t)
	c = nil
	acked := p.ackedEvents()
	kept := p.kept(t, mnt)
	env.rows = append(env.rows, faultRow{"ENOSPC (1 MiB tmpfs), then space freed", acked, kept, acked - kept, p.failed.Load(),
		fmt.Sprintf("%d event batches refused with 503 while full, accepted after; served log: %d answers, %v lines written (%v while full, %d in the file), %v dropped, %v write errors",
			refused, recOK.Load(), written, writtenFull, lines, dropped, errs)})
	if kept != acked || p.failed.Load() != refused {
		t.Errorf("events: %d acknowledged, %d kept; %d refused while full, %d in all", acked, kept, refused, p.failed.Load())
	}
	if written <= writtenFull || float64(lines) != written || written+dropped != float64(recOK.Load()) {
		t.Errorf("served log: written %v (%v when full), %d lines in the file, dropped %v, %d answers", written, writtenFull, lines, dropped, recOK.Load())
	}
}
