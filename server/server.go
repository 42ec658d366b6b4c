// Package server owns Cascade's HTTP recommendation service: the JSON API (recommend, events,
// similar items, health, metrics, the OpenAPI document), the admin listener (bundle reload,
// pprof), hot reload of model bundles with validation and an atomic swap, per-request deadlines,
// the served-list log, and graceful shutdown. The live history store it reads and writes is the
// subpackage history: a file log on this machine, or Redis shared by a fleet of replicas, which
// can also follow a bundle pointer (rollout.go) so that a new bundle reaches every replica.
//
// A Server holds no global state: New builds one from a Config; Handler and AdminHandler expose
// its routes (for tests and embedding), Run serves them until its context ends.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/pipeline"
)

// Server is the recommendation service.
type Server struct {
	cfg     Config
	log     *slog.Logger
	lim     limits
	seed    *seedHistory
	store   HistoryStore
	served  *servedLog
	rollout *rollout // nil without Config.Rollout.Pointer
	metrics *metrics
	sources map[string]bool // the pipeline's retrieve sources, by stage name
	slots   chan struct{}   // MaxConcurrent pipeline runs

	// catalog is the living catalog every bundle answers from (catalog.go); catStore keeps its
	// changes; catMu orders catalog changes with bundle swaps.
	catalog  *pipeline.Catalog
	catStore catalogStore
	catMu    sync.Mutex

	cur atomic.Pointer[bundle]
	// reloadSem admits one load at a time; a waiting reload gives up at its deadline, and a load
	// that overruns its own releases it (its result is dropped).
	reloadSem    chan struct{}
	stopping     atomic.Bool
	adminMetrics *adminMetrics

	idPrefix string
	idSeq    atomic.Uint64

	handler, admin http.Handler
	closeOnce      sync.Once
	closeErr       error
}

// bundle is one loaded model bundle.
type bundle struct {
	p       *pipeline.Pipeline
	dir     string
	version string
	loaded  time.Time
}

// New builds a server: it opens the history store (replaying its log) and the served log. The
// model bundle is loaded by Run, or by Reload.
func New(cfg Config) (*Server, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	var b [4]byte
	rand.Read(b[:])
	s := &Server{
		cfg:          cfg,
		log:          cfg.Logger,
		lim:          limits{maxK: cfg.MaxK, maxHistory: cfg.MaxHistory, maxExclude: cfg.MaxExclude, maxBatch: cfg.MaxBatch, maxIDBytes: cfg.MaxIDBytes},
		seed:         newSeedHistory(cfg.Dataset, cfg.History.PerUser),
		sources:      map[string]bool{},
		slots:        make(chan struct{}, cfg.MaxConcurrent),
		reloadSem:    make(chan struct{}, 1),
		adminMetrics: newAdminMetrics(),
		idPrefix:     hex.EncodeToString(b[:]),
	}
	for _, src := range cfg.Pipeline.Retrieve.Sources {
		s.sources[src.Model] = true
	}
	// The catalog's stored state first: the history store resolves item IDs through it.
	if err := s.openCatalog(); err != nil {
		return nil, err
	}
	s.cfg.History.Catalog, s.cfg.Redis.Catalog = s.catalog, s.catalog
	cfg = s.cfg
	store, storeMetrics, err := openStore(context.Background(), &cfg)
	if err != nil {
		s.catStore.close()
		return nil, err
	}
	s.store = store
	if s.served, err = openServedLog(cfg.ServedLog, cfg.Logger); err != nil {
		s.store.Close()
		s.catStore.close()
		return nil, err
	}
	s.metrics = newMetrics(storeMetrics, s.served)
	if rc, ok := s.catStore.(*redisCatalog); ok {
		rc.onApplied = func(n int) { s.metrics.catalogApplied.Add(float64(n)) }
	}
	if cfg.Rollout.Pointer != "" {
		if s.rollout, err = newRollout(s, cfg.Rollout); err != nil {
			s.catStore.close()
			s.served.close()
			s.store.Close()
			return nil, err
		}
	}
	clockMsg := "requests without context.time are computed at the wall clock"
	if cfg.Clock == ClockData && len(cfg.Dataset.Events) > 0 {
		clockMsg = "requests without context.time are computed at the data set's last event time " + time.Unix(cfg.Dataset.Events[len(cfg.Dataset.Events)-1].Time, 0).UTC().Format(time.RFC3339) + " (--clock wall for a live log)"
	}
	s.log.Info(clockMsg, "clock", cfg.Clock)
	s.log.Info("history seeded from the data set", "dataset", cfg.Dataset.Name, "events", s.seed.events(), "per_user", cfg.History.PerUser)
	s.handler = s.routes()
	s.admin = s.adminRoutes()
	return s, nil
}

// Handler serves the public API.
func (s *Server) Handler() http.Handler { return s.handler }

// AdminHandler serves the admin routes (reload, metrics, pprof).
func (s *Server) AdminHandler() http.Handler { return s.admin }

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.requestID, s.instrument, s.recoverer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "not_found", Msg: "no such route: " + r.URL.Path})
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, &apiError{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Msg: r.Method + " is not allowed on " + r.URL.Path})
	})
	r.Post("/v1/recommend", s.handleRecommend)
	r.Post("/v1/events", s.handleEvents)
	r.Get("/v1/items/{id}/similar", s.handleSimilar)
	r.Post("/v1/items", s.handleUpsertItems)
	r.Delete("/v1/items/{id}", s.handleDeleteItem)
	r.Get("/healthz", s.handleHealth)
	r.Get("/readyz", s.handleReady)
	r.Get("/openapi.json", handleOpenAPI)
	r.Method(http.MethodGet, "/metrics", s.metricsHandler())
	return r
}

func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{Registry: s.metrics.reg})
}

// requestID takes a well-formed X-Request-Id from the client or makes one (a random per-process
// prefix and a counter: unique, and cheaper than a random ID per request).
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = s.idPrefix + "-" + strconv.FormatUint(s.idSeq.Add(1), 36)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

type requestIDKey struct{}

func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// instrument counts requests and their latency by route pattern (not raw path, so item IDs do
// not become label values).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route, status := routeStatus(r, ww)
		s.metrics.requests.WithLabelValues(route, status).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// routeStatus names a served request by its route pattern and status code.
func routeStatus(r *http.Request, ww middleware.WrapResponseWriter) (route, status string) {
	route = "unmatched"
	if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
		route = rc.RoutePattern()
	}
	code := ww.Status()
	if code == 0 {
		code = http.StatusOK
	}
	return route, strconv.Itoa(code)
}

// recoverer is the last line of defence: a panicking handler is logged with its stack and
// answered 500, and counted (tests assert the count stays 0).
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.metrics.errors.WithLabelValues("panic").Inc()
				s.log.Error("panic in handler", "request_id", requestIDOf(r.Context()), "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeJSON(w, http.StatusInternalServerError, &apiError{Code: "internal", Msg: "internal error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// ErrReloadBusy refuses a reload while another one runs past the reload deadline.
var ErrReloadBusy = errors.New("another bundle reload is running")

// Reload loads the bundle in dir (empty: the directory last loaded, at first Config.Models),
// validates it (checksums and data fingerprint by pipeline.Open, then one smoke request) and
// swaps it in atomically. On any error the current bundle keeps serving. It returns the new
// bundle's version.
func (s *Server) Reload(ctx context.Context, dir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReloadTimeout)
	defer cancel()
	select {
	case s.reloadSem <- struct{}{}:
	case <-ctx.Done():
		s.metrics.reloads.WithLabelValues("refused").Inc()
		return "", fmt.Errorf("%w (waited %s)", ErrReloadBusy, s.cfg.ReloadTimeout)
	}
	released := false
	release := func() {
		if !released {
			released = true
			<-s.reloadSem
		}
	}
	defer release()
	switch {
	case dir == "":
		dir = s.cfg.Models
		if b := s.cur.Load(); b != nil {
			dir = b.dir
		}
	case s.cfg.Bundles == "":
		s.metrics.reloads.WithLabelValues("refused").Inc()
		return "", fmt.Errorf("%w: reloading another directory needs a bundle root (--bundles)", ErrOutsideRoot)
	default:
		real, err := insideRoot(s.cfg.Bundles, dir)
		if err != nil {
			s.metrics.reloads.WithLabelValues("refused").Inc()
			return "", fmt.Errorf("models %q: %w", dir, err)
		}
		dir = real
	}
	start := time.Now()
	type loaded struct {
		b   *bundle
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		b, err := s.load(ctx, dir)
		done <- loaded{b, err}
	}()
	var b *bundle
	var err error
	select {
	case l := <-done:
		b, err = l.b, l.err
	case <-ctx.Done():
		err = fmt.Errorf("model bundle %s: the load did not finish within %s", dir, s.cfg.ReloadTimeout)
	}
	if err == nil {
		// The live items go into the new bundle before it serves; catMu holds catalog changes
		// back until the swap, so none reaches only the old bundle.
		s.catMu.Lock()
		defer s.catMu.Unlock()
		if err = b.p.UseCatalog(s.catalog); err != nil {
			err = fmt.Errorf("model bundle %s does not take the live catalog: %w", dir, err)
		}
	}
	if err != nil {
		s.metrics.reloads.WithLabelValues("refused").Inc()
		s.metrics.errors.WithLabelValues("reload").Inc()
		return "", err
	}
	old := s.cur.Swap(b)
	s.metrics.reloads.WithLabelValues("ok").Inc()
	if old != nil {
		s.metrics.modelInfo.DeletePartialMatch(map[string]string{"version": old.version})
	}
	man := b.p.Manifest()
	s.metrics.modelInfo.WithLabelValues(b.version, man.Pipeline, man.Created, man.Dataset.Name).Set(1)
	prev := ""
	if old != nil {
		prev = old.version
	}
	s.log.Info("model bundle loaded", "dir", dir, "version", b.version, "previous", prev, "seconds", time.Since(start).Seconds())
	return b.version, nil
}

// load opens and validates a bundle.
func (s *Server) load(ctx context.Context, dir string) (*bundle, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p, err := pipeline.Open(s.cfg.Pipeline, abs, s.cfg.Dataset)
	if err != nil {
		return nil, err
	}
	man := p.Manifest()
	b := &bundle{
		p:       p,
		dir:     abs,
		version: fmt.Sprintf("%s-%s-%s", man.Pipeline, compactTime(man.Created), man.Checksum()[:8]),
		loaded:  time.Now(),
	}
	if err := s.smoke(ctx, b); err != nil {
		return nil, fmt.Errorf("model bundle %s failed its smoke request: %w", abs, err)
	}
	return b, nil
}

func compactTime(rfc3339 string) string {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		return "unknown"
	}
	return t.UTC().Format("20060102T150405Z")
}

// smoke runs one personal request (the most recent data set user's history) and one
// non-personal one through a fresh bundle; both must answer with items, neither degraded.
func (s *Server) smoke(ctx context.Context, b *bundle) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // the first call may warm caches
	defer cancel()
	queries := []candidates.Query{{User: -1, Time: time.Now().Unix()}}
	if ds := s.cfg.Dataset; len(ds.Events) > 0 {
		last := ds.Events[len(ds.Events)-1]
		items, values, times := s.seed.get(last.User)
		queries = append(queries, candidates.Query{User: last.User, History: items, HistoryTimes: times, HistoryValues: values, Time: last.Time})
	}
	for _, q := range queries {
		res, err := b.p.RecommendDense(ctx, pipeline.Query{Query: q, Explain: true})
		switch {
		case err != nil:
			return err
		case res.Degraded:
			return fmt.Errorf("a request degraded: %s", res.Reason)
		case len(res.Items) == 0:
			return fmt.Errorf("a request (history of %d items) returned no items", len(q.History))
		}
	}
	return nil
}

// Run serves the public (and admin) listeners, loading the bundle first if Reload has not, until
// ctx ends; it then drains in-flight requests (up to ShutdownTimeout) and closes the store.
func (s *Server) Run(ctx context.Context) error {
	defer s.Close()
	if s.cur.Load() == nil && s.rollout != nil {
		s.rollout.poll(ctx) // a replica that starts during a rollout joins the fleet's bundle
	}
	if s.cur.Load() == nil {
		if _, err := s.Reload(ctx, ""); err != nil {
			return err
		}
	}
	if s.rollout != nil {
		go s.rollout.watch(ctx)
	}
	go s.catStore.watch(ctx, s.applyStored)
	type srv struct {
		name string
		hs   *http.Server
		ln   net.Listener
	}
	var servers []srv
	listen := func(name, addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("server: %s listener: %w", name, err)
		}
		hs := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
			BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		}
		servers = append(servers, srv{name, hs, ln})
		s.log.Info("listening", "listener", name, "addr", ln.Addr().String())
		return nil
	}
	if err := listen("public", s.cfg.Addr, s.handler); err != nil {
		return err
	}
	if s.cfg.AdminAddr != "" {
		if err := listen("admin", s.cfg.AdminAddr, s.admin); err != nil {
			servers[0].ln.Close()
			return err
		}
	}
	if s.cfg.OnListen != nil {
		var admin net.Addr
		if len(servers) > 1 {
			admin = servers[1].ln.Addr()
		}
		s.cfg.OnListen(servers[0].ln.Addr(), admin)
	}
	errc := make(chan error, len(servers))
	for _, sv := range servers {
		go func() {
			if err := sv.hs.Serve(sv.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("server: %s listener: %w", sv.name, err)
				return
			}
			errc <- nil
		}()
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.stopping.Store(true)
	if runErr == nil && s.cfg.Drain > 0 {
		// Readiness fails first; the listeners keep serving until load balancers have seen it.
		s.log.Info("shutting down: /readyz fails, listeners close after the drain delay", "drain", s.cfg.Drain)
		time.Sleep(s.cfg.Drain)
	}
	s.log.Info("shutting down: closing listeners, finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	for _, sv := range servers {
		if err := sv.hs.Shutdown(sctx); err != nil && runErr == nil {
			runErr = fmt.Errorf("server: %s shutdown: %w", sv.name, err)
		}
	}
	if err := s.Close(); err != nil && runErr == nil {
		runErr = err
	}
	s.log.Info("stopped")
	return runErr
}

// Addr-independent helpers for tests and embedding.

// Version returns the served bundle's version ("" before the first load).
func (s *Server) Version() string {
	if b := s.cur.Load(); b != nil {
		return b.version
	}
	return ""
}

// Store returns the live history store.
func (s *Server) Store() HistoryStore { return s.store }

// Close flushes and closes the history store and the served log. Handlers must not be running.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.stopping.Store(true)
		if s.rollout != nil {
			s.rollout.close()
		}
		s.served.close()
		s.closeErr = errors.Join(s.store.Close(), s.catStore.close())
	})
	return s.closeErr
}
