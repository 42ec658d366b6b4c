package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The admin listener's routes: bundle reload, its own readiness view, metrics and pprof. They are
// guarded by an optional bearer token and a Host/Origin check, and counted apart from the public
// routes so that the public /metrics shows no admin traffic.

// ErrOutsideRoot refuses a reload directory outside the bundle root. Its message is the same
// whether the directory exists or not.
var ErrOutsideRoot = errors.New("not a bundle directory under the bundle root")

// bundleRoot resolves the configured root to an absolute, symlink-free directory.
func bundleRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("server: bundle root %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("server: bundle root %s: %w", dir, err)
	}
	if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("server: bundle root %s is not a directory", dir)
	}
	return real, nil
}

// insideRoot resolves dir (relative to root unless absolute, symlinks followed) and returns it if
// it is a directory inside root.
func insideRoot(root, dir string) (string, error) {
	p := dir
	if !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", ErrOutsideRoot
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", ErrOutsideRoot
	}
	if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
		return "", ErrOutsideRoot
	}
	return real, nil
}

// adminMetrics count the admin listener's requests on a registry of their own; the admin /metrics
// serves both registries.
type adminMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
}

func newAdminMetrics() *adminMetrics {
	m := &adminMetrics{
		reg:      prometheus.NewRegistry(),
		requests: newCounterVec("cascade_admin_requests_total", "Admin listener requests by route and status code.", "route", "code"),
	}
	m.reg.MustRegister(m.requests)
	return m
}

func (s *Server) adminRoutes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.requestID, s.instrumentAdmin, s.recoverer, s.adminGuard)
	r.Post("/admin/reload", s.handleReload)
	r.Get("/healthz", s.handleHealth)
	r.Get("/readyz", s.handleAdminReady)
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(prometheus.Gatherers{s.metrics.reg, s.adminMetrics.reg}, promhttp.HandlerOpts{}))
	r.Get("/debug/pprof/*", pprof.Index)
	r.Get("/debug/pprof/cmdline", pprof.Cmdline)
	r.Get("/debug/pprof/profile", pprof.Profile)
	r.Get("/debug/pprof/symbol", pprof.Symbol)
	r.Get("/debug/pprof/trace", pprof.Trace)
	return r
}

func (s *Server) instrumentAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		s.adminMetrics.requests.WithLabelValues(routeStatus(r, ww)).Inc()
	})
}

// adminGuard admits an admin request only with the bearer token (when one is configured), a Host
// that names an IP address or localhost (a DNS-rebinding page names its own domain), and no
// foreign Origin (a browser sends one on a cross-site POST).
func (s *Server) adminGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.tokenOK(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cascade-admin"`)
			s.fail(w, r, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Msg: "the admin listener needs Authorization: Bearer <token>"})
			return
		}
		if !plainHost(r.Host) {
			s.fail(w, r, &apiError{Status: http.StatusForbidden, Code: "forbidden_host", Msg: "admin requests must address the listener by IP or localhost"})
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !sameHost(o, r.Host) {
			s.fail(w, r, &apiError{Status: http.StatusForbidden, Code: "forbidden_origin", Msg: "cross-origin admin requests are refused"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenOK reports whether r carries the admin token, when one is configured.
func (s *Server) tokenOK(r *http.Request) bool {
	tok := s.cfg.AdminToken
	if tok == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1
}

// plainHost reports whether a Host header names an IP address or localhost.
func plainHost(host string) bool {
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	h = strings.Trim(h, "[]")
	return h == "localhost" || net.ParseIP(h) != nil
}

// sameHost reports whether origin (scheme://host[:port]) names host.
func sameHost(origin, host string) bool {
	_, rest, ok := strings.Cut(origin, "://")
	return ok && strings.EqualFold(rest, host)
}

// handleAdminReady is /readyz with the bundle's details, for operators.
func (s *Server) handleAdminReady(w http.ResponseWriter, r *http.Request) {
	b := s.cur.Load()
	if b == nil || s.stopping.Load() {
		s.handleReady(w, r)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "model_version": b.version, "models": b.dir, "loaded_at": b.loaded.UTC().Format(time.RFC3339)})
}

// handleReload answers POST /admin/reload[?models=DIR].
func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) {
	dir := r.URL.Query().Get("models")
	prev := s.Version()
	start := time.Now()
	// A reload runs to its end (or its own deadline) even if the caller hangs up: a half-done
	// validation helps no one.
	v, err := s.Reload(context.WithoutCancel(r.Context()), dir)
	if err != nil {
		s.log.Warn("model bundle refused; the current one keeps serving", "models", dir, "err", err, "serving", prev)
		status := http.StatusUnprocessableEntity
		switch {
		case errors.Is(err, ErrOutsideRoot):
			status = http.StatusForbidden
		case errors.Is(err, ErrReloadBusy):
			status = http.StatusConflict
		}
		writeJSON(w, status, &apiError{Code: "bundle_refused", Field: "models", Msg: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"model_version": v, "previous_version": prev, "seconds": time.Since(start).Seconds()})
}
