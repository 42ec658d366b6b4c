package fleet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cascade-rec/cascade/server"
	"github.com/cascade-rec/cascade/server/history"
	"github.com/cascade-rec/cascade/server/internal/redistest"
)

// childEnv carries a childConfig (JSON) to this test binary re-executed as a replica process.
const childEnv = "CASCADE_FLEET_CHILD"

type childConfig struct{ Data, Models, Redis string }

// runChild is a replica process: it serves until SIGTERM, or until it is killed.
func runChild(raw string) int {
	var cc childConfig
	if err := json.Unmarshal([]byte(raw), &cc); err != nil {
		fmt.Println("FAILED", err)
		return 1
	}
	ds, cfg, err := loadWorld(cc.Data)
	if err != nil {
		fmt.Println("FAILED", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	s, err := server.New(server.Config{
		Pipeline: cfg, Dataset: ds, Models: cc.Models, Addr: "127.0.0.1:0", Drain: -1,
		RequestTimeout: 2 * time.Second, Redis: history.RedisOptions{URL: cc.Redis}, Logger: quiet(),
		OnListen: func(public, _ net.Addr) { fmt.Println("LISTEN", public) },
	})
	if err != nil {
		fmt.Println("FAILED", err)
		return 1
	}
	if err := s.Run(ctx); err != nil {
		fmt.Println("FAILED", err)
		return 1
	}
	return 0
}

// child is a replica process.
type child struct {
	cmd    *exec.Cmd
	public string
	done   chan struct{}
}

func startChild(t *testing.T, cc childConfig) *child {
	t.Helper()
	raw, _ := json.Marshal(cc)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(c.kill)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "LISTEN ") || strings.HasPrefix(l, "FAILED ") {
				lines <- l
			}
		}
		close(lines)
	}()
	select {
	case l, ok := <-lines:
		if !ok || !strings.HasPrefix(l, "LISTEN ") {
			t.Fatalf("replica process did not start: %q", l)
		}
		c.public = "http://" + strings.TrimPrefix(l, "LISTEN ")
	case <-time.After(60 * time.Second):
		t.Fatal("replica process did not listen in 60 s")
	}
	return c
}

// kill sends SIGKILL and waits for the process to end.
func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.done
}

// poster posts batches of events, one new user per batch, and records what was acknowledged.
type poster struct {
	items   []string // catalog item IDs to post
	prefix  string
	mu      sync.Mutex
	acked   map[string][]string // user → items acknowledged
	sent    atomic.Int64
	refused atomic.Int64 // 503 history_unavailable
	other   atomic.Int64 // any other failure (transport errors, other statuses)
	codes   sync.Map     // status/code → count, for messages
}

const batchEvents = 10

func newPoster(w *world, prefix string) *poster {
	return &poster{items: w.ds.Items.IDs(), prefix: prefix, acked: map[string][]string{}}
}

// post sends batch n to base; it reports whether it was acknowledged.
func (p *poster) post(base string, n int) bool {
	user := fmt.Sprintf("%s-%d", p.prefix, n)
	items := make([]string, batchEvents)
	var b strings.Builder
	b.WriteByte('[')
	for i := range items {
		items[i] = p.items[(n*batchEvents+i)%len(p.items)]
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"user_id": %q, "item_id": %q, "timestamp": %d}`, user, items[i], 1700000000+n*batchEvents+i)
	}
	b.WriteByte(']')
	p.sent.Add(batchEvents)
	var a answer
	code, err := post(base, "/v1/events", b.String(), &a)
	key := fmt.Sprint(code, " ", a.Code)
	if err != nil {
		key = "transport error"
	}
	v, _ := p.codes.LoadOrStore(key, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	switch {
	case err == nil && code == http.StatusOK:
		p.mu.Lock()
		p.acked[user] = items
		p.mu.Unlock()
		return true
	case err == nil && code == http.StatusServiceUnavailable && a.Code == "history_unavailable":
		p.refused.Add(1)
	default:
		p.other.Add(1)
	}
	return false
}

func (p *poster) statuses() string {
	var parts []string
	p.codes.Range(func(k, v any) bool {
		parts = append(parts, fmt.Sprintf("%s: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	return strings.Join(parts, ", ")
}

func (p *poster) ackedEvents() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked) * batchEvents
}

// kept counts the acknowledged events Redis holds, reading the lists directly.
func (p *poster) kept(t *testing.T, url string) int {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(o)
	defer rdb.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	ctx := context.Background()
	for user, items := range p.acked {
		vals, err := rdb.LRange(ctx, "cascade:history:"+user, 0, -1).Result()
		if err != nil {
			t.Fatalf("LRANGE %s: %v", user, err)
		}
		have := map[string]bool{}
		for _, v := range vals {
			if f := strings.SplitN(v, " ", 3); len(f) == 3 {
				have[f[2]] = true
			}
		}
		for _, it := range items {
			if have[it] {
				n++
			}
		}
	}
	return n
}

// load runs posters from g goroutines against bases (in turn) until stop is closed, at most
// limit batches each.
func (p *poster) load(g int, bases []string, stop <-chan struct{}, limit int) *sync.WaitGroup {
	var wg sync.WaitGroup
	for k := range g {
		wg.Go(func() {
			for i := range limit {
				select {
				case <-stop:
					return
				default:
				}
				p.post(bases[i%len(bases)], k*limit+i)
			}
		})
	}
	return &wg
}

// A replica process killed with SIGKILL while four clients post events loses nothing it
// acknowledged: an answer 200 comes only after Redis has the events.
func TestReplicaKill9KeepsAcknowledged(t *testing.T) {
	w := getWorld(t)
	srv := redistest.Start(t, redistest.Options{Persistence: redistest.AOFAlways})
	c := startChild(t, childConfig{Data: w.dataDir, Models: filepath.Join(w.root, "v1"), Redis: srv.URL(0)})
	p := newPoster(w, "kill9")
	stop := make(chan struct{})
	wg := p.load(4, []string{c.public}, stop, 20000)
	time.Sleep(500*time.Millisecond + rand.N(time.Second))
	c.kill()
	close(stop)
	wg.Wait()
	acked, kept := p.ackedEvents(), p.kept(t, srv.URL(0))
	t.Logf("replica kill -9 while posting: %d events sent, %d acknowledged, %d kept (%s)", p.sent.Load(), acked, kept, p.statuses())
	if acked == 0 || kept != acked {
		t.Fatalf("%d acknowledged, %d kept", acked, kept)
	}
}

// redisKillRun posts through a replica, kills redis-server with SIGKILL at a random moment
// between after and after + 1 s, restarts it, and counts the acknowledged events it kept.
func redisKillRun(t *testing.T, w *world, opt redistest.Options, after time.Duration) (p *poster, acked, kept int) {
	srv := redistest.Start(t, opt)
	r := startReplica(t, w, srv.URL(0), nil)
	p = newPoster(w, "rkill")
	stop := make(chan struct{})
	wg := p.load(4, []string{r.public}, stop, 100000)
	time.Sleep(after + rand.N(time.Second))
	srv.Kill()
	time.Sleep(100 * time.Millisecond) // posts meet the dead server
	close(stop)
	wg.Wait()
	srv.Restart()
	return p, p.ackedEvents(), p.kept(t, srv.URL(0))
}

// redis-server killed with SIGKILL while events are posted, appendfsync always: every
// acknowledged event is there after its restart, and the posts that met the dead server were
// refused with 503 history_unavailable (not acknowledged, not hung).
func TestRedisKill9AOFAlwaysKeepsAcknowledged(t *testing.T) {
	w := getWorld(t)
	p, acked, kept := redisKillRun(t, w, redistest.Options{Persistence: redistest.AOFAlways}, 500*time.Millisecond)
	t.Logf("redis-server kill -9 while posting (appendfsync always): %d events sent, %d acknowledged, %d kept (%s)", p.sent.Load(), acked, kept, p.statuses())
	if acked == 0 || kept != acked || p.refused.Load() == 0 || p.other.Load() != 0 {
		t.Fatalf("%d acknowledged, %d kept; %d refused with 503, %d other failures (%s)", acked, kept, p.refused.Load(), p.other.Load(), p.statuses())
	}
}
