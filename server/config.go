package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"time"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/server/history"
)

// Config configures a Server. Pipeline, Dataset and Models are required; every other field has a
// default (see New).
type Config struct {
	// Pipeline is the pipeline file the bundles were trained from.
	Pipeline *pipeline.Config
	// Dataset is the data set the bundles were trained on: its dictionaries map external IDs,
	// and its events seed every user's history (the last History.PerUser of them).
	Dataset *dataset.Dataset
	// Models is the bundle directory loaded at start and by a reload without a directory.
	Models string

	// Addr is the public listener (":8080"); AdminAddr the admin listener ("127.0.0.1:9090",
	// reload and pprof; "" disables it). A non-loopback AdminAddr needs PublicAdmin.
	Addr        string
	AdminAddr   string
	PublicAdmin bool

	// RequestTimeout is every recommendation's deadline (default 100 ms); the pipeline's stage
	// budgets apply inside it, and a request that runs out of it is answered by the fallback list.
	RequestTimeout time.Duration
	// MaxConcurrent bounds the pipelines running at once (default 2 × GOMAXPROCS). The pipeline
	// is CPU-bound: beyond the cores, more concurrency only stretches every request until all
	// miss the deadline together. Requests wait for a slot within their deadline; one that
	// cannot get one in time is answered by the fallback list (degraded, class overload).
	MaxConcurrent int
	// ShutdownTimeout bounds the drain of in-flight requests at shutdown (default 10 s).
	ShutdownTimeout time.Duration
	// Clock is the time of a request without context.time: ClockData (the default) is the data
	// set's last event time, right for a static historical log; ClockWall is now, for a live one.
	Clock string
	// Drain is how long shutdown keeps serving with /readyz failing before it closes the
	// listeners, so that load balancers see the 503 and stop routing first (default 3 s; a
	// negative value: none).
	Drain time.Duration
	// ReloadTimeout bounds a bundle load and check (default 2 min). A reload that overruns is
	// refused; it cannot hold back the reloads after it.
	ReloadTimeout time.Duration
	// Bundles is the bundle root: POST /admin/reload?models=DIR takes only directories inside it
	// (DIR relative to it, symlinks resolved). Empty: only the current directory reloads.
	Bundles string
	// AdminToken, when set, is the bearer token every admin request must carry
	// (Authorization: Bearer TOKEN).
	AdminToken string

	// Limits on input.
	MaxBodyBytes int64 // default 1 MiB
	MaxK         int   // default: the pipeline's final.k
	MaxHistory   int   // items in a request's explicit history, default 1000
	MaxExclude   int   // default 10000
	MaxBatch     int   // events in one POST /v1/events, default 10000
	MaxIDBytes   int   // length of a user or item ID, default 256

	// History configures the live store; History.Catalog is set by New.
	History history.Options
	// Redis, when its URL is set, keeps the live history in Redis instead of the file log, shared
	// by every replica that names the same server (History.PerUser still bounds each user;
	// History's file options are unused). Catalog, Logger and, when zero, PerUser are set by New.
	Redis history.RedisOptions
	// Rollout, when its Pointer is set, makes the server follow the fleet's bundle pointer.
	Rollout RolloutConfig
	// CatalogLog is the file that keeps catalog changes (POST/DELETE /v1/items) on this machine;
	// with Redis (Redis.URL) they are kept in Redis instead and reach every replica. Empty and
	// no Redis: changes live in memory only.
	CatalogLog string
	// ServedLog configures the log of served lists (off when Path is empty).
	ServedLog ServedLogConfig

	Logger *slog.Logger
	// OnListen, when set, is called by Run once the listeners are bound (admin is nil without an
	// admin listener), e.g. to print the address of ":0".
	OnListen func(public, admin net.Addr)
}

func (c *Config) defaults() error {
	if c.Pipeline == nil || c.Dataset == nil {
		return errors.New("server: the pipeline file and its data set are required")
	}
	if c.Models == "" {
		return errors.New("server: a model bundle directory is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 100 * time.Millisecond
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	switch c.Clock {
	case "":
		c.Clock = ClockData
	case ClockData, ClockWall:
	default:
		return fmt.Errorf("server: clock %q: want %s or %s", c.Clock, ClockData, ClockWall)
	}
	if c.Drain == 0 {
		c.Drain = 3 * time.Second
	}
	if c.ReloadTimeout == 0 {
		c.ReloadTimeout = 2 * time.Minute
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxK == 0 {
		c.MaxK = c.Pipeline.Final.K
	}
	if c.MaxHistory == 0 {
		c.MaxHistory = 1000
	}
	if c.MaxExclude == 0 {
		c.MaxExclude = 10000
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 2 * runtime.GOMAXPROCS(0)
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 10000
	}
	if c.MaxIDBytes == 0 {
		c.MaxIDBytes = 256
	}
	if c.History.PerUser == 0 {
		c.History.PerUser = 200
	}
	if c.History.Logger == nil {
		c.History.Logger = c.Logger
	}
	c.History.Catalog = c.Dataset.Items
	if c.Redis.URL != "" {
		if c.Redis.PerUser == 0 {
			c.Redis.PerUser = c.History.PerUser
		}
		if c.Redis.Logger == nil {
			c.Redis.Logger = c.Logger
		}
		c.Redis.Catalog = c.Dataset.Items
	}
	switch {
	case c.RequestTimeout < 0 || c.ShutdownTimeout < 0 || c.ReloadTimeout < 0:
		return errors.New("server: negative timeout")
	case c.MaxK < 1 || c.MaxK > c.Pipeline.Final.K:
		return fmt.Errorf("server: max k %d outside [1, %d] (the pipeline's final.k)", c.MaxK, c.Pipeline.Final.K)
	case c.MaxBodyBytes < 1024 || c.MaxConcurrent < 1 || c.MaxHistory < 0 || c.MaxExclude < 0 || c.MaxBatch < 1 || c.MaxIDBytes < 1:
		return errors.New("server: input limits out of range")
	}
	if c.AdminAddr != "" && !c.PublicAdmin {
		if err := loopbackOnly(c.AdminAddr); err != nil {
			return err
		}
	}
	if c.Bundles != "" {
		root, err := bundleRoot(c.Bundles)
		if err != nil {
			return err
		}
		c.Bundles = root
		if _, err := insideRoot(root, c.Models); err != nil {
			return fmt.Errorf("server: the model bundle %s is outside the bundle root %s", c.Models, root)
		}
	}
	if err := c.Rollout.defaults(c.Bundles); err != nil {
		return err
	}
	return c.ServedLog.defaults()
}

// The request clocks (Config.Clock).
const (
	ClockData = "data"
	ClockWall = "wall"
)

// loopbackOnly refuses an admin address that would listen beyond this machine.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("server: admin address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("server: admin address %q is not loopback: admin routes (reload, pprof) would be reachable from the network; use 127.0.0.1:PORT or allow it explicitly", addr)
}
