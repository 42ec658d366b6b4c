package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Fleet rollout: every replica watches one bundle pointer, a Redis key or a file in a shared
// directory, that names the bundle the fleet should serve (a directory under the bundle root).
// When it changes, each replica loads and checks the new bundle off to the side and swaps it in
// (Server.Reload); a bundle that fails its checks is refused by every replica, each logging and
// counting the refusal, and the old one keeps serving. With a Redis pointer each replica also
// publishes its state under KEY:replica:ID, so that one command shows the fleet.

// RolloutConfig configures the bundle pointer a replica follows.
type RolloutConfig struct {
	// Pointer is where the fleet's bundle is announced: redis://host:port/db (the key Key holds a
	// bundle directory), or the path of a file holding one, or of a symlink to it. A directory
	// is taken relative to the bundle root (Config.Bundles, required), like POST
	// /admin/reload?models=. Empty: no rollout.
	Pointer string
	// Key is the pointer's Redis key (default "cascade:bundle:current").
	Key string
	// Interval is how often the pointer is read (default 1 s).
	Interval time.Duration
	// ReplicaID names this replica in its status key (default HOSTNAME-PID).
	ReplicaID string
}

func (c *RolloutConfig) defaults(bundles string) error {
	if c.Pointer == "" {
		return nil
	}
	if bundles == "" {
		return errors.New("server: a rollout pointer needs a bundle root (--bundles): the pointer names directories inside it")
	}
	if c.Key == "" {
		c.Key = "cascade:bundle:current"
	}
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	if c.Interval < 10*time.Millisecond {
		return fmt.Errorf("server: rollout interval %s is below 10 ms", c.Interval)
	}
	if c.ReplicaID == "" {
		host, _ := os.Hostname()
		c.ReplicaID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return nil
}

// pointer is where the fleet's bundle is announced.
type pointer interface {
	// read returns the bundle directory named now ("" when none is).
	read(ctx context.Context) (string, error)
	// report publishes this replica's state, best effort.
	report(ctx context.Context, st replicaStatus)
	close() error
}

// replicaStatus is what a replica says about its rollout.
type replicaStatus struct {
	Replica      string `json:"replica"`
	ModelVersion string `json:"model_version"`
	Pointer      string `json:"pointer"`
	// State: "ok" (serving the pointer's bundle), "refused" (the pointer's bundle failed its
	// checks; the previous one serves), "pointer_unreadable", or "no_pointer".
	State string    `json:"state"`
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// rollout follows the pointer for one server.
type rollout struct {
	s   *Server
	cfg RolloutConfig
	src pointer

	mu       sync.Mutex // one poll at a time
	seen     string     // the pointer value last acted on
	state    string
	lastErr  string
	readFail bool

	life    sync.Mutex // guards closed and watchers
	closed  bool
	done    chan struct{} // closed by close
	watches sync.WaitGroup

	applied, refused, readErrors prometheus.Counter
	inSync                       prometheus.Gauge
}

func newRollout(s *Server, cfg RolloutConfig) (*rollout, error) {
	var src pointer
	if strings.HasPrefix(cfg.Pointer, "redis://") || strings.HasPrefix(cfg.Pointer, "rediss://") {
		p, err := newRedisPointer(cfg)
		if err != nil {
			return nil, err
		}
		src = p
	} else {
		src = filePointer{path: cfg.Pointer}
	}
	r := &rollout{
		s: s, cfg: cfg, src: src, state: "no_pointer", done: make(chan struct{}),
		applied:    newCounter("cascade_rollout_applied_total", "Bundles taken because the fleet's bundle pointer named them."),
		refused:    newCounter("cascade_rollout_refused_total", "Bundles the pointer named that failed their checks (the previous bundle kept serving)."),
		readErrors: newCounter("cascade_rollout_pointer_read_errors_total", "Reads of the bundle pointer that failed."),
		inSync:     newGauge("cascade_rollout_in_sync", "1 when this replica serves the bundle the pointer names (or no pointer is set), 0 when it refused it."),
	}
	r.inSync.Set(1)
	s.metrics.reg.MustRegister(r.applied, r.refused, r.readErrors, r.inSync)
	return r, nil
}

// watch polls the pointer every Interval until ctx ends or the rollout is closed.
func (r *rollout) watch(ctx context.Context) {
	r.life.Lock()
	if r.closed {
		r.life.Unlock()
		return
	}
	r.watches.Add(1)
	r.life.Unlock()
	defer r.watches.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.poll(ctx)
		}
	}
}

// poll reads the pointer once and, when it names a bundle not yet acted on, reloads it.
func (r *rollout) poll(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, max(r.cfg.Interval, time.Second))
	p, err := r.src.read(rctx)
	cancel()
	switch {
	case err != nil:
		r.readErrors.Inc()
		if !r.readFail {
			r.s.log.Warn("rollout: the bundle pointer cannot be read; the current bundle keeps serving", "pointer", redactPointer(r.cfg.Pointer), "err", err)
		}
		r.readFail = true
		r.report(ctx, "pointer_unreadable", err.Error())
		return
	case r.readFail:
		r.readFail = false
		r.s.log.Info("rollout: the bundle pointer is readable again", "pointer", redactPointer(r.cfg.Pointer))
	}
	if p == "" || p == r.seen {
		r.report(ctx, r.state, r.lastErr)
		return
	}
	if b := r.s.cur.Load(); b != nil {
		if real, err := insideRoot(r.s.cfg.Bundles, p); err == nil && real == b.dir {
			r.seen, r.state, r.lastErr = p, "ok", ""
			r.inSync.Set(1)
			r.report(ctx, r.state, "")
			return
		}
	}
	prev := r.s.Version()
	v, err := r.s.Reload(ctx, p)
	switch {
	case err != nil && (errors.Is(err, ErrReloadBusy) || ctx.Err() != nil):
		return // not decided: the next poll tries again
	case err != nil:
		r.seen, r.state, r.lastErr = p, "refused", err.Error()
		r.refused.Inc()
		r.inSync.Set(0)
		r.s.log.Error("rollout: the bundle the pointer names was refused; the current one keeps serving", "bundle", p, "err", err, "serving", prev, "replica", r.cfg.ReplicaID)
	default:
		r.seen, r.state, r.lastErr = p, "ok", ""
		r.applied.Inc()
		r.inSync.Set(1)
		r.s.log.Info("rollout: took the bundle the pointer names", "bundle", p, "version", v, "previous", prev, "replica", r.cfg.ReplicaID)
	}
	r.report(ctx, r.state, r.lastErr)
}

func (r *rollout) report(ctx context.Context, state, errMsg string) {
	r.src.report(ctx, replicaStatus{
		Replica: r.cfg.ReplicaID, ModelVersion: r.s.Version(), Pointer: r.seen, State: state, Error: errMsg, At: time.Now().UTC(),
	})
}

// close stops the watch (waiting for a poll in progress) and releases the pointer.
func (r *rollout) close() {
	r.life.Lock()
	if r.closed {
		r.life.Unlock()
		return
	}
	r.closed = true
	close(r.done)
	r.life.Unlock()
	r.watches.Wait()
	r.src.close()
}

// redactPointer hides a password in a redis:// pointer.
func redactPointer(p string) string {
	if u, err := url.Parse(p); err == nil && u.User != nil {
		return u.Redacted()
	}
	return p
}

// redisPointer is a Redis key; each replica's state goes to KEY:replica:ID with a TTL, so that
// replicas that stopped disappear.
type redisPointer struct {
	rdb       *redis.Client
	key       string
	statusKey string
	statusTTL time.Duration
}

func newRedisPointer(cfg RolloutConfig) (*redisPointer, error) {
	o, err := redis.ParseURL(cfg.Pointer)
	if err != nil {
		return nil, fmt.Errorf("server: rollout pointer %q: %w", redactPointer(cfg.Pointer), err)
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = 250*time.Millisecond, time.Second, time.Second
	o.ContextTimeoutEnabled, o.MaxRetries, o.DialerRetries, o.PoolSize = true, -1, 1, 2
	o.DisableIdentity = true
	return &redisPointer{
		rdb: redis.NewClient(o), key: cfg.Key, statusKey: cfg.Key + ":replica:" + cfg.ReplicaID,
		statusTTL: max(10*time.Second, 10*cfg.Interval),
	}, nil
}

func (p *redisPointer) read(ctx context.Context) (string, error) {
	v, err := p.rdb.Get(ctx, p.key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", p.key, err)
	}
	return strings.TrimSpace(v), nil
}

func (p *redisPointer) report(ctx context.Context, st replicaStatus) {
	b, _ := json.Marshal(st)
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	p.rdb.Set(ctx, p.statusKey, b, p.statusTTL) // best effort: the log and metrics say the same
}

func (p *redisPointer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	p.rdb.Del(ctx, p.statusKey) // a stopped replica is no longer part of the fleet
	cancel()
	return p.rdb.Close()
}

// filePointer is a file in a shared directory holding a bundle directory, or a symlink to one.
type filePointer struct{ path string }

func (p filePointer) read(context.Context) (string, error) {
	fi, err := os.Lstat(p.path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(p.path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p.path), target)
		}
		if st, err := os.Stat(target); err == nil && st.IsDir() {
			return target, nil
		}
	}
	// A regular file only: opening a FIFO without O_NONBLOCK would block the watcher.
	f, err := os.OpenFile(p.path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file or a symlink to a directory", p.path)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4097))
	if err != nil {
		return "", err
	}
	if len(b) > 4096 {
		return "", fmt.Errorf("%s holds more than 4 KiB: not a bundle directory name", p.path)
	}
	return strings.TrimSpace(string(b)), nil
}

func (filePointer) report(context.Context, replicaStatus) {}
func (filePointer) close() error                          { return nil }
