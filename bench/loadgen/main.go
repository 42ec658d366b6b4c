// Command loadgen drives a running `cascade serve` over loopback and reports what it saw: an
// open-loop recommendation load at a fixed rate (latency measured from each request's scheduled
// start, so a stalled server is not hidden by a stalled client), optionally with a bundle reload
// every few seconds on the admin listener; or a bulk event load (many users) followed by the
// server's memory figures from /metrics.
//
//	go run ./bench/loadgen -data ../shared/datasets/ml-latest-small -rate 500 -duration 60s
//	go run ./bench/loadgen -data ../shared/datasets/ml-latest-small -rate 300 -reload-every 5s
//	go run ./bench/loadgen -mode events -data ../shared/datasets/ml-latest-small -events 1000000 -users 100000
//	go run ./bench/loadgen -url http://127.0.0.1:8081,http://127.0.0.1:8082 -admin http://127.0.0.1:9091,http://127.0.0.1:9092 -rate 500
//
// With several -url (a fleet of replicas), requests go to them in turn (round robin) and the
// server figures are summed over the -admin listeners (given in the same order).
//
// It talks to loopback addresses only, and stops by itself (duration at most 10 minutes, at most
// 10M events).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cascade-rec/cascade/dataset"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type options struct {
	mode          string
	bases, admins []string
	dataUsers     bool
	data          string
	rate          float64
	conc          int
	duration      time.Duration
	k             int
	unknown       float64
	ctxTime       int64
	explain       bool
	reloadEvery   time.Duration
	models        []string
	events        int
	users         int
	batch         int
	seed          uint64
}

func run() error {
	var o options
	var models, bases, admins string
	flag.StringVar(&o.mode, "mode", "recommend", "recommend | events")
	flag.StringVar(&bases, "url", "http://127.0.0.1:8080", "public listener(s), comma-separated: requests go to them in turn (loopback only)")
	flag.StringVar(&admins, "admin", "http://127.0.0.1:9090", "admin listener(s), comma-separated, in the order of -url (loopback only)")
	flag.BoolVar(&o.dataUsers, "data-users", false, "events mode: post for the data set's users (those the recommend mode asks for), not for new ones")
	flag.StringVar(&o.data, "data", "", "data set directory the server was started with (user and item IDs, the last event time); empty: synthetic IDs u0…, i0…")
	flag.Float64Var(&o.rate, "rate", 500, "recommendations per second to schedule (open loop)")
	flag.IntVar(&o.conc, "c", 64, "most requests in flight")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "how long to run (at most 10m)")
	flag.IntVar(&o.k, "k", 10, "k of each request")
	flag.Float64Var(&o.unknown, "unknown-users", 0.05, "share of requests for users the server does not know (fallback lists)")
	flag.Int64Var(&o.ctxTime, "context-time", -1, "context.time of each request: -1 = the data set's last event time + 1 day, 0 = omit (server time)")
	flag.BoolVar(&o.explain, "explain", false, "ask for explain output")
	flag.DurationVar(&o.reloadEvery, "reload-every", 0, "POST /admin/reload this often during the load (0: never)")
	flag.StringVar(&models, "models", "", "comma-separated bundle directories to alternate between on reload (empty: the server's current one)")
	flag.IntVar(&o.events, "events", 1_000_000, "events mode: events to post")
	flag.IntVar(&o.users, "users", 100_000, "events mode: distinct users")
	flag.IntVar(&o.batch, "batch", 500, "events mode: events per POST")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed")
	flag.Parse()
	if models != "" {
		o.models = strings.Split(models, ",")
	}
	o.bases, o.admins = strings.Split(bases, ","), strings.Split(admins, ",")
	if len(o.bases) != len(o.admins) {
		return fmt.Errorf("-url names %d listeners and -admin %d: give one admin listener per replica", len(o.bases), len(o.admins))
	}
	for _, u := range append(slices.Clone(o.bases), o.admins...) {
		if err := loopback(u); err != nil {
			return err
		}
	}
	switch {
	case o.duration <= 0 || o.duration > 10*time.Minute:
		return errors.New("-duration must be in (0, 10m]")
	case o.rate <= 0 || o.rate > 100_000 || o.conc < 1 || o.conc > 4096:
		return errors.New("-rate must be in (0, 100000] and -c in [1, 4096]")
	case o.events < 1 || o.events > 10_000_000 || o.users < 1 || o.batch < 1 || o.batch > 10_000:
		return errors.New("-events must be in [1, 10M], -users ≥ 1, -batch in [1, 10000]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ids, err := loadIDs(o.data)
	if err != nil {
		return err
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConns: o.conc, MaxIdleConnsPerHost: o.conc, IdleConnTimeout: time.Minute},
	}
	for _, base := range o.bases {
		if err := waitReady(ctx, client, base); err != nil {
			return err
		}
	}
	switch o.mode {
	case "recommend":
		return recommendLoad(ctx, client, o, ids)
	case "events":
		return eventLoad(ctx, client, o, ids)
	}
	return fmt.Errorf("-mode %q: want recommend or events", o.mode)
}

func loopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s is not a loopback address: loadgen only drives a server on this machine", raw)
}

type catalog struct {
	users, items []string
	lastTime     int64
}

func loadIDs(dir string) (*catalog, error) {
	if dir == "" {
		c := &catalog{lastTime: time.Now().Unix()}
		for i := range 1000 {
			c.users = append(c.users, fmt.Sprint("u", i))
			c.items = append(c.items, fmt.Sprint("i", i))
		}
		return c, nil
	}
	ds, err := dataset.Load(dir, dataset.LoadOptions{})
	if err != nil {
		return nil, err
	}
	c := &catalog{users: ds.Users.IDs(), items: ds.Items.IDs()}
	if n := len(ds.Events); n > 0 {
		c.lastTime = ds.Events[n-1].Time
	}
	return c, nil
}

func waitReady(ctx context.Context, c *http.Client, base string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := c.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/readyz not ready after a minute (last: %v)", base, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type result struct {
	latency  time.Duration // from the scheduled start
	service  time.Duration // from the actual send
	status   int
	err      error
	degraded bool
	fallback bool
}

func recommendLoad(ctx context.Context, client *http.Client, o options, c *catalog) error {
	rng := rand.New(rand.NewPCG(o.seed, 2))
	qt := o.ctxTime
	if qt < 0 {
		qt = c.lastTime + 86400
	}
	total := int(o.rate * o.duration.Seconds())
	bodies := make([][]byte, total)
	for i := range bodies {
		user := c.users[rng.IntN(len(c.users))]
		if rng.Float64() < o.unknown {
			user = fmt.Sprintf("loadgen-new-%d", rng.IntN(1<<30))
		}
		req := map[string]any{"user_id": user, "k": o.k}
		if qt > 0 {
			req["context"] = map[string]any{"time": qt}
		}
		if o.explain {
			req["explain"] = true
		}
		bodies[i], _ = json.Marshal(req)
	}
	fmt.Printf("recommend: %d requests at %.0f/s for %s, ≤ %d in flight, k = %d, %.0f%% unknown users, context.time %d\n",
		total, o.rate, o.duration, o.conc, o.k, 100*o.unknown, qt)

	type job struct {
		body  []byte
		sched time.Time
		base  string
	}
	jobs := make(chan job, total)
	results := make(chan result, total)
	var wg sync.WaitGroup
	for range o.conc {
		wg.Go(func() {
			for j := range jobs {
				if d := time.Until(j.sched); d > 0 {
					time.Sleep(d)
				}
				results <- send(ctx, client, j.base+"/v1/recommend", j.body, j.sched)
			}
		})
	}
	// Reloads on the admin listener, alternating bundles.
	var reloadsOK, reloadsFailed atomic.Int64
	rctx, rcancel := context.WithCancel(ctx)
	var rwg sync.WaitGroup
	if o.reloadEvery > 0 {
		rwg.Go(func() {
			t := time.NewTicker(o.reloadEvery)
			defer t.Stop()
			for i := 0; ; i++ {
				select {
				case <-rctx.Done():
					return
				case <-t.C:
				}
				for _, admin := range o.admins {
					target := admin + "/admin/reload"
					if len(o.models) > 0 {
						target += "?models=" + url.QueryEscape(o.models[i%len(o.models)])
					}
					resp, err := client.Post(target, "application/json", nil)
					if err != nil {
						reloadsFailed.Add(1)
						fmt.Fprintln(os.Stderr, "reload:", err)
						continue
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						reloadsFailed.Add(1)
						fmt.Fprintf(os.Stderr, "reload: %d %s\n", resp.StatusCode, b)
						continue
					}
					reloadsOK.Add(1)
				}
			}
		})
	}
	cpu0 := metricValue(client, o.admins, "process_cpu_seconds_total")
	hist0 := histogram(client, o.admins, `cascade_http_request_duration_seconds_bucket{route="/v1/recommend",le="`)
	reads0 := histogram(client, o.admins, historyReadBuckets)
	sums0 := sums(client, o.admins)
	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.rate)
	for i, b := range bodies {
		jobs <- job{body: b, sched: start.Add(time.Duration(i) * interval), base: o.bases[i%len(o.bases)]}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	rcancel()
	rwg.Wait()
	close(results)

	var lat, svc []time.Duration
	codes := map[int]int{}
	var transport, degraded, fallback int
	var firstErr error
	for r := range results {
		if r.err != nil {
			transport++
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		codes[r.status]++
		lat = append(lat, r.latency)
		svc = append(svc, r.service)
		if r.degraded {
			degraded++
		}
		if r.fallback {
			fallback++
		}
	}
	slices.Sort(lat)
	slices.Sort(svc)
	ok := codes[200]
	fmt.Printf("elapsed %.1fs, achieved %.1f answers/s; status %v, transport errors %d (first: %v)\n", elapsed.Seconds(), float64(ok)/elapsed.Seconds(), codes, transport, firstErr)
	fmt.Printf("fallback lists %d (unknown users; degraded by deadline or pipeline error: %d)\n", fallback, degraded)
	fmt.Printf("latency from schedule ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 99.9), pct(lat, 100))
	fmt.Printf("latency from send ms:     p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", pct(svc, 50), pct(svc, 90), pct(svc, 99), pct(svc, 99.9), pct(svc, 100))
	if h := histogram(client, o.admins, `cascade_http_request_duration_seconds_bucket{route="/v1/recommend",le="`); len(h) > 0 && (len(h) == len(hist0) || len(hist0) == 0) {
		for i := range hist0 {
			h[i].count -= hist0[i].count
		}
		fmt.Printf("server-side (handler) ms:  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  (interpolated in the histogram's buckets)\n",
			quantile(h, 0.5), quantile(h, 0.9), quantile(h, 0.99), quantile(h, 0.999))
	}
	historyShare(client, o.admins, reads0, sums0)
	if cpu := metricValue(client, o.admins, "process_cpu_seconds_total") - cpu0; cpu > 0 && ok > 0 {
		// Includes reloads, if any. On idle cores this bounds the rate: cores / CPU per answer.
		fmt.Printf("server CPU %.1fs = %.2f ms per answer (%.0f answers/s per idle core)\n", cpu, 1000*cpu/float64(ok), float64(ok)/cpu)
	}
	if o.reloadEvery > 0 {
		fmt.Printf("reloads: %d ok, %d failed\n", reloadsOK.Load(), reloadsFailed.Load())
	}
	return printMetrics(client, o.admins)
}

// The live history's series: reads by recommendations, and the recommend handler's totals.
const (
	historyReadBuckets = `cascade_history_call_duration_seconds_bucket{op="read",result="ok",le="`
	historyReadSum     = `cascade_history_call_duration_seconds_sum{op="read",result="ok"}`
	historyReadCount   = `cascade_history_call_duration_seconds_count{op="read",result="ok"}`
	historyReadErrors  = `cascade_history_call_duration_seconds_count{op="read",result="error"}`
	recommendSum       = `cascade_http_request_duration_seconds_sum{route="/v1/recommend"}`
	recommendCount     = `cascade_http_request_duration_seconds_count{route="/v1/recommend"}`
)

// sums reads the series historyShare compares, summed over the replicas.
func sums(client *http.Client, admins []string) map[string]float64 {
	m := map[string]float64{}
	for _, name := range []string{historyReadSum, historyReadCount, historyReadErrors, recommendSum, recommendCount} {
		m[name] = metricValue(client, admins, name)
	}
	return m
}

// historyShare prints the live history reads' latency and their share of the handler's time
// during the run (the Redis round trip, with --history redis://…).
func historyShare(client *http.Client, admins []string, reads0 []bucket, sums0 map[string]float64) {
	s := sums(client, admins)
	reads, rec := s[historyReadCount]-sums0[historyReadCount], s[recommendCount]-sums0[recommendCount]
	if reads <= 0 || rec <= 0 {
		return
	}
	readMean := (s[historyReadSum] - sums0[historyReadSum]) / reads
	recMean := (s[recommendSum] - sums0[recommendSum]) / rec
	line := fmt.Sprintf("live history reads: %.0f (%.0f failed), mean %.3f ms = %.1f %% of the handler's mean %.3f ms", reads, s[historyReadErrors]-sums0[historyReadErrors], 1000*readMean, 100*readMean/recMean, 1000*recMean)
	if h := histogram(client, admins, historyReadBuckets); len(h) > 0 && (len(h) == len(reads0) || len(reads0) == 0) {
		for i := range reads0 {
			h[i].count -= reads0[i].count
		}
		line += fmt.Sprintf("; p50 %.3f ms, p99 %.3f ms (interpolated)", quantile(h, 0.5), quantile(h, 0.99))
	}
	fmt.Println(line)
}

func send(ctx context.Context, client *http.Client, url string, body []byte, sched time.Time) result {
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err}
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	end := time.Now()
	if err != nil {
		return result{err: err}
	}
	return result{
		latency: end.Sub(sched), service: end.Sub(t0), status: resp.StatusCode,
		degraded: bytes.Contains(b, []byte(`"degraded":true`)),
		fallback: bytes.Contains(b, []byte(`"fallback":true`)),
	}
}

func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	i := min(len(d)-1, int(p/100*float64(len(d))))
	return float64(d[i].Microseconds()) / 1000
}

func eventLoad(ctx context.Context, client *http.Client, o options, c *catalog) error {
	fmt.Printf("events: %d events for %d users in batches of %d, %d in flight\n", o.events, o.users, o.batch, o.conc)
	before, _ := scrape(client, o.admins[0])
	batches := make(chan []byte, o.conc)
	go func() {
		defer close(batches)
		rng := rand.New(rand.NewPCG(o.seed, 3))
		type ev struct {
			User string `json:"user_id"`
			Item string `json:"item_id"`
			Time int64  `json:"timestamp"`
		}
		t := c.lastTime
		for sent := 0; sent < o.events; sent += o.batch {
			n := min(o.batch, o.events-sent)
			evs := make([]ev, n)
			for i := range evs {
				// Users in turn, so that each gets events/users of them.
				u := (sent + i) % o.users
				t++
				user := fmt.Sprintf("load-user-%07d", u)
				if o.dataUsers {
					user = c.users[u%len(c.users)]
				}
				evs[i] = ev{User: user, Item: c.items[rng.IntN(len(c.items))], Time: t}
			}
			b, _ := json.Marshal(evs)
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	start := time.Now()
	var failed, posted atomic.Int64
	var wg sync.WaitGroup
	for range o.conc {
		wg.Go(func() {
			n := 0
			for b := range batches {
				n++
				r := send(ctx, client, o.bases[n%len(o.bases)]+"/v1/events", b, time.Now())
				if r.err != nil || r.status != 200 {
					if failed.Add(1) == 1 {
						fmt.Fprintln(os.Stderr, "events:", r.status, r.err)
					}
					continue
				}
				posted.Add(1)
			}
		})
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Printf("posted %d batches (%d failed) in %.1fs: %.0f events/s\n", posted.Load(), failed.Load(), el.Seconds(), float64(posted.Load())*float64(o.batch)/el.Seconds())
	fmt.Println("server before:")
	printSelected(before)
	return printMetrics(client, o.admins)
}

var shown = []string{
	"cascade_errors_total", "cascade_recommendations_total", "cascade_reloads_total", "cascade_stage_fallbacks_total",
	"cascade_events_ingested_total", "cascade_history_", "cascade_served_log_", "process_resident_memory_bytes",
	"go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes", "go_memstats_sys_bytes",
}

func printMetrics(client *http.Client, admins []string) error {
	for _, admin := range admins {
		m, err := scrape(client, admin)
		if err != nil {
			return err
		}
		fmt.Println("server metrics (" + admin + "):")
		printSelected(m)
	}
	return nil
}

type bucket struct {
	le    float64 // upper bound, seconds
	count float64 // cumulative
}

// histogram reads the cumulative buckets of the series whose lines start with prefix (up to the
// le value), summed over the admin listeners (nil when one cannot be read).
func histogram(client *http.Client, admins []string, prefix string) []bucket {
	var sum []bucket
	for i, admin := range admins {
		h := histogram1(client, admin, prefix)
		if i > 0 && len(h) != len(sum) {
			return nil
		}
		if i == 0 {
			sum = h
			continue
		}
		for j := range h {
			sum[j].count += h[j].count
		}
	}
	return sum
}

func histogram1(client *http.Client, admin, prefix string) []bucket {
	lines, err := scrape(client, admin)
	if err != nil {
		return nil
	}
	var out []bucket
	for _, l := range lines {
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok {
			continue
		}
		le, val, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		var b bucket
		if le == "+Inf" {
			b.le = math.Inf(1)
		} else {
			fmt.Sscan(le, &b.le)
		}
		fmt.Sscan(val, &b.count)
		out = append(out, b)
	}
	return out
}

// quantile interpolates linearly inside the bucket holding quantile q (in ms).
func quantile(h []bucket, q float64) float64 {
	total := h[len(h)-1].count
	if total == 0 {
		return 0
	}
	rank := q * total
	lo, prev := 0.0, 0.0
	for _, b := range h {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return 1000 * lo
			}
			frac := (rank - prev) / max(b.count-prev, 1e-9)
			return 1000 * (lo + frac*(b.le-lo))
		}
		lo, prev = b.le, b.count
	}
	return 1000 * lo
}

// metricValue returns the value of a series (its name with labels, as exposed), summed over the
// admin listeners (0 where absent).
func metricValue(client *http.Client, admins []string, name string) float64 {
	total := 0.0
	for _, admin := range admins {
		lines, err := scrape(client, admin)
		if err != nil {
			continue
		}
		for _, l := range lines {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				var f float64
				fmt.Sscan(v, &f)
				total += f
				break
			}
		}
	}
	return total
}

func scrape(client *http.Client, admin string) ([]string, error) {
	resp, err := client.Get(admin + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, sc.Err()
}

func printSelected(lines []string) {
	for _, l := range lines {
		if strings.HasPrefix(l, "#") {
			continue
		}
		for _, p := range shown {
			if strings.HasPrefix(l, p) {
				fmt.Println("  " + l)
				break
			}
		}
	}
}
