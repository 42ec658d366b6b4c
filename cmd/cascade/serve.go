package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/server"
	"github.com/cascade-rec/cascade/server/history"
)

type serveCmd struct {
	Config string `help:"Pipeline file the bundle was trained from (a path or an embedded example name); default: the file recorded in the bundle's manifest.json."`
	Data   string `help:"Data set directory the bundle was trained on; overrides the file's dataset.path. Its events seed every user's history and its IDs are the catalog."`
	Models string `required:"" help:"Model bundle directory written by 'cascade train'."`
	malformedFlag
	serveOptions
}

// serveOptions are the server flags shared by serve and demo --serve.
type serveOptions struct {
	Addr          string        `default:":8080" help:"Public listener address."`
	AdminAddr     string        `default:"127.0.0.1:9090" help:"Admin listener (POST /admin/reload, /metrics, /debug/pprof); empty disables it."`
	PublicAdmin   bool          `help:"Allow a non-loopback --admin-addr."`
	Timeout       time.Duration `default:"100ms" help:"Deadline of every recommendation; past it the fallback list answers (degraded)."`
	MaxK          int           `help:"Largest k a request may ask for (default: the pipeline's final.k)."`
	MaxConcurrent int           `help:"Pipelines running at once (default 2 × GOMAXPROCS); requests queue for a slot within their deadline."`
	MaxBody       int64         `default:"1048576" help:"Largest request body in bytes."`

	State           string        `default:"cascade-state" help:"Directory for the history log (STATE/history), the catalog log (STATE/catalog.jsonl; with --history redis://… the catalog is kept in Redis) and the served log (STATE/served.jsonl)."`
	HistoryPerUser  int           `default:"200" help:"Events kept per user (data set and live)."`
	HistoryMaxMB    int64         `default:"256" help:"Memory bound of the live history store, MiB (least recently active users are evicted beyond it)."`
	HistorySync     string        `default:"always" enum:"always,interval,never" help:"When events reach disk: always (fsync before the answer, group commit), interval (every second), never."`
	HistoryLogMaxMB int64         `default:"1024" help:"Size bound of the history log, MiB (compaction keeps each user's last events and drops the least recently active users beyond it)."`
	HistoryMemory   bool          `help:"Keep live events in memory only (nothing survives a restart)."`
	History         string        `placeholder:"redis://HOST:PORT/DB" help:"Keep the live history in Redis, shared by every replica that names the same server (redis://[user:password@]host:port/db; rediss:// for TLS). Unset: the file log under --state. See docs/redis.md for what each Redis persistence setting promises."`
	HistoryTTL      time.Duration `help:"With --history redis://…: a user's live history expires this long after their latest event (0: never)."`
	HistoryTimeout  time.Duration `default:"25ms" help:"With --history redis://…: the longest a recommendation waits for the user's live history before answering without it (with a warning)."`
	Rollout         string        `placeholder:"redis://HOST:PORT/DB|FILE" help:"Follow the fleet's bundle pointer: a Redis key (--rollout-key) or a file holding a bundle directory under --bundles (or a symlink to one). A new bundle is loaded and checked off to the side, then swapped in; a bad one is refused and the current one keeps serving."`
	RolloutKey      string        `default:"cascade:bundle:current" help:"The Redis key of the bundle pointer (each replica's state goes to KEY:replica:ID)."`
	RolloutInterval time.Duration `default:"1s" help:"How often the bundle pointer is read."`
	ReplicaID       string        `help:"This replica's name in the rollout status (default HOSTNAME-PID)."`
	ServedLog       string        `help:"Served-list log file (default STATE/served.jsonl); 'off' disables it."`
	ServedLogMaxMB  int64         `default:"64" help:"Rotate the served log beyond this size, MiB."`
	LogFeatures     bool          `help:"Log every served item's feature values (ranker training data), not only for explain requests."`
	ShutdownTimeout time.Duration `default:"10s" help:"How long shutdown waits for in-flight requests."`
	Clock           string        `default:"data" enum:"data,wall" help:"Time of a request without context.time: data = the data set's last event time (a historical log: recency features as in training), wall = now (a live log)."`
	Drain           time.Duration `default:"3s" help:"At shutdown, how long /readyz fails before the listeners close (load balancers stop routing first); 0 disables it."`
	ReloadTimeout   time.Duration `default:"2m" help:"Deadline of a bundle reload (load and check); an overrunning reload is refused."`
	Bundles         string        `help:"Bundle root: POST /admin/reload?models=DIR takes only directories inside it (relative to it; symlinks resolved). Unset: only the current bundle reloads."`
	AdminToken      string        `env:"CASCADE_ADMIN_TOKEN" help:"Bearer token required on the admin listener (or the CASCADE_ADMIN_TOKEN environment variable)."`
}

func (c *serveCmd) Run(g *Globals) error {
	cfg, err := c.pipelineFile(g)
	if err != nil {
		return err
	}
	ds, err := loadData(g, cfg, c.Data, c.malformedFlag)
	if err != nil {
		return err
	}
	return serve(g, cfg, ds, c.Models, c.serveOptions, nil)
}

// pipelineFile is --config, or else the pipeline file the bundle was trained from (manifest.json's
// config). A file read from the manifest has lost its location, so a relative dataset.path in it
// cannot be resolved: --data must then name the data.
func (c *serveCmd) pipelineFile(g *Globals) (*pipeline.Config, error) {
	if c.Config != "" {
		return loadConfig(c.Config)
	}
	man, err := pipeline.ReadManifest(c.Models)
	if err != nil {
		return nil, fmt.Errorf("serve without --config: %w", err)
	}
	name := filepath.Join(c.Models, "manifest.json")
	if man.Config == "" {
		return nil, fmt.Errorf("serve: %s records no pipeline file (field config): give --config", name)
	}
	cfg, err := pipeline.ParseConfig(name+" (config)", []byte(man.Config))
	if err != nil {
		return nil, err
	}
	if p := cfg.Dataset.Path; c.Data == "" && p != "" && !filepath.IsAbs(p) {
		return nil, fmt.Errorf("serve: the pipeline file in %s names dataset.path %q relative to where the file was: give --data (or --config)", name, p)
	}
	g.Log.Info("pipeline file from the bundle's manifest", "pipeline", cfg.Name, "manifest", name)
	return cfg, nil
}

// serve runs the recommendation server on a loaded pipeline file and data set until g.Ctx ends,
// reloading the bundle on SIGHUP. ready, when set, is called once the listeners are bound.
func serve(g *Globals, cfg *pipeline.Config, ds *dataset.Dataset, models string, o serveOptions, ready func(public, admin net.Addr)) error {
	if o.Drain == 0 {
		o.Drain = -1 // the flag's 0 means none; the server's zero value means its default
	}
	sc := server.Config{
		Pipeline: cfg, Dataset: ds, Models: models,
		Addr: o.Addr, AdminAddr: o.AdminAddr, PublicAdmin: o.PublicAdmin,
		RequestTimeout: o.Timeout, ShutdownTimeout: o.ShutdownTimeout, Drain: o.Drain, ReloadTimeout: o.ReloadTimeout,
		Bundles: o.Bundles, AdminToken: o.AdminToken, Clock: o.Clock,
		MaxK: o.MaxK, MaxBodyBytes: o.MaxBody, MaxConcurrent: o.MaxConcurrent,
		History: history.Options{
			PerUser:  o.HistoryPerUser,
			MaxBytes: o.HistoryMaxMB << 20,
			Sync:     history.Sync(o.HistorySync),
		},
		ServedLog: server.ServedLogConfig{Path: o.ServedLog, MaxBytes: o.ServedLogMaxMB << 20, Features: o.LogFeatures},
		Logger:    g.Log,
		OnListen:  ready,
	}
	switch {
	case o.History != "":
		if o.HistoryMemory {
			return errors.New("serve: --history-memory and --history redis://… exclude each other")
		}
		if !strings.HasPrefix(o.History, "redis://") && !strings.HasPrefix(o.History, "rediss://") {
			return fmt.Errorf("serve: --history %q: want redis://host:port/db (unset: the file log under --state)", o.History)
		}
		sc.Redis = history.RedisOptions{URL: o.History, TTL: o.HistoryTTL, ReadTimeout: o.HistoryTimeout}
	case !o.HistoryMemory:
		sc.History.Dir = filepath.Join(o.State, "history")
		sc.History.MaxLogBytes = o.HistoryLogMaxMB << 20
		sc.CatalogLog = filepath.Join(o.State, "catalog.jsonl")
	}
	sc.Rollout = server.RolloutConfig{Pointer: o.Rollout, Key: o.RolloutKey, Interval: o.RolloutInterval, ReplicaID: o.ReplicaID}
	switch o.ServedLog {
	case "":
		sc.ServedLog.Path = filepath.Join(o.State, "served.jsonl")
	case "off":
		sc.ServedLog.Path = ""
	}
	s, err := server.New(sc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(g.Ctx)
	defer cancel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if v, err := s.Reload(ctx, ""); err != nil {
					g.Log.Error("SIGHUP: model bundle refused; the current one keeps serving", "err", err)
				} else {
					g.Log.Info("SIGHUP: model bundle reloaded", "version", v)
				}
			}
		}
	}()
	if err := s.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// serveDemo serves the demo's bundle of pipeline file name (trained into dir/NAME) on addr, with
// its state in dir, and prints a curl line for a real user once it listens.
func serveDemo(g *Globals, name, data, dir, addr string) error {
	cfg, err := loadConfig(name)
	if err != nil {
		return err
	}
	ds, err := cfg.LoadData(g.Ctx, data, dir, g.Log) // the world the demo generated, from its cache
	if err != nil {
		return err
	}
	o := serveOptions{
		Addr: addr, AdminAddr: "127.0.0.1:0", Timeout: 100 * time.Millisecond, MaxBody: 1 << 20,
		State: filepath.Join(dir, "state"), HistoryPerUser: 200, HistoryMaxMB: 256, HistorySync: "always",
		ServedLogMaxMB: 64, ShutdownTimeout: 10 * time.Second,
	}
	user, last := "1", time.Now().Unix()
	if n := len(ds.Events); n > 0 {
		user, last = ds.Users.String(ds.Events[n-1].User), ds.Events[n-1].Time
	}
	return serve(g, cfg, ds, filepath.Join(dir, cfg.Name), o, func(public, admin net.Addr) {
		host := public.String()
		if tcp, ok := public.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
			host = net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
		}
		fmt.Fprintf(g.Stdout, "\nserving %s on http://%s (admin on %s); try:\n", cfg.Name, host, admin)
		// context.time in the line: the request's clock (Unix seconds; the server defaults to the
		// data's last event time), which a user replaying their own log sets.
		fmt.Fprintf(g.Stdout, "  curl -s http://%s/v1/recommend -d '{\"user_id\": %q, \"k\": 5, \"context\": {\"time\": %d}, \"explain\": false}'\n", host, user, last)
		fmt.Fprintf(g.Stdout, "Ctrl-C stops the server.\n")
	})
}
