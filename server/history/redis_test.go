package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cascade-rec/cascade/server/internal/redistest"
)

// The Redis store's tests run against a real redis-server started by each test (skipped with a
// message when none is installed).

func openRedis(t *testing.T, url string, edit func(*RedisOptions)) *RedisStore {
	t.Helper()
	opt := RedisOptions{URL: url, Catalog: catalog{}, Logger: quiet()}
	if edit != nil {
		edit(&opt)
	}
	s, err := OpenRedis(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// raw is a plain client on the same server, to look at what the store wrote.
func raw(t *testing.T, url string) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedisAppendAndHistory(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s := openRedis(t, srv.URL(1), func(o *RedisOptions) { o.PerUser = 3 })
	ctx := context.Background()
	rated := ev("rated", 5, 100)
	rated.Value = 4.5
	for _, tc := range []struct {
		name        string
		batches     [][]Event
		user        string
		wantItems   []int32
		wantTimes   []int64
		wantUnknown int
	}{
		{"one event", [][]Event{{ev("a", 1, 10)}}, "a", []int32{1}, []int64{10}, 0},
		{"order kept across batches", [][]Event{{ev("b", 1, 10), ev("b", 2, 11)}, {ev("b", 3, 12)}}, "b", []int32{1, 2, 3}, []int64{10, 11, 12}, 0},
		{"trimmed to the last PerUser", [][]Event{{ev("c", 1, 1), ev("c", 2, 2), ev("c", 3, 3), ev("c", 4, 4)}, {ev("c", 5, 5)}}, "c", []int32{3, 4, 5}, []int64{3, 4, 5}, 0},
		{"arrival order, not time order", [][]Event{{ev("d", 1, 50)}, {ev("d", 2, 40)}}, "d", []int32{1, 2}, []int64{50, 40}, 0},
		{"unknown items counted, stored, not returned", [][]Event{{ev("e", 1, 1), {User: "e", Item: "new item", Time: 2, Value: float32(math.NaN())}}}, "e", []int32{1}, []int64{1}, 1},
		{"other users' batches apart", [][]Event{{ev("f", 1, 1), ev("g", 2, 2), ev("f", 3, 3)}}, "f", []int32{1, 3}, []int64{1, 3}, 0},
		{"a user with no events", nil, "nobody", nil, nil, 0},
		{"a rating", [][]Event{{rated}}, "rated", []int32{5}, []int64{100}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unknown := 0
			for _, b := range tc.batches {
				n, err := s.Append(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				unknown += n
			}
			h, err := s.History(ctx, tc.user, make([]Entry, 7))
			if err != nil {
				t.Fatal(err)
			}
			var times []int64
			for _, e := range h {
				times = append(times, e.Time)
			}
			if !slices.Equal(items(h), tc.wantItems) || !slices.Equal(times, tc.wantTimes) || unknown != tc.wantUnknown {
				t.Fatalf("items %v times %v unknown %d, want %v %v %d", items(h), times, unknown, tc.wantItems, tc.wantTimes, tc.wantUnknown)
			}
		})
	}
	h, _ := s.History(ctx, "rated", nil)
	if h[0].Value != 4.5 {
		t.Errorf("rating %v, want 4.5", h[0].Value)
	}
	if h, _ := s.History(ctx, "a", nil); !math.IsNaN(float64(h[0].Value)) {
		t.Errorf("no rating read back as %v, want NaN", h[0].Value)
	}
	// The unknown item is in Redis (a later catalog may know it), readable with redis-cli.
	got, err := raw(t, srv.URL(1)).LRange(ctx, "cascade:history:e", 0, -1).Result()
	if err != nil || !slices.Equal(got, []string{"1 - i1", "2 - new item"}) {
		t.Errorf("stored %q, %v", got, err)
	}
	st := s.Stats()
	if st.Appended != 17 || st.Unknown != 1 || !st.Up || st.AppendErrors != 0 || st.ReadErrors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRedisEntryEncoding(t *testing.T) {
	for _, tc := range []struct {
		ev   Event
		want string
	}{
		{Event{User: "u", Item: "i1", Time: 1700000000, Value: float32(math.NaN())}, "1700000000 - i1"},
		{Event{User: "u", Item: "an item with spaces", Time: 0, Value: 3.25}, "0 3.25 an item with spaces"},
		{Event{User: "u", Item: "ü", Time: 253402300799, Value: -1e-7}, "253402300799 -1e-07 ü"},
	} {
		s := encodeEntry(tc.ev)
		if s != tc.want {
			t.Errorf("encode %+v = %q, want %q", tc.ev, s, tc.want)
		}
		item, e, ok := decodeEntry(s)
		sameValue := e.Value == tc.ev.Value || math.IsNaN(float64(e.Value)) && math.IsNaN(float64(tc.ev.Value))
		if !ok || item != tc.ev.Item || e.Time != tc.ev.Time || !sameValue {
			t.Errorf("decode %q = %q %+v %v", s, item, e, ok)
		}
	}
	for _, bad := range []string{"", "12", "12 -", "12 - ", "x - i1", "12 abc i1"} {
		if _, _, ok := decodeEntry(bad); ok {
			t.Errorf("decoded %q", bad)
		}
	}
}

func TestRedisTTL(t *testing.T) {
	const ttl = time.Second
	srv := redistest.Start(t, redistest.Options{})
	s := openRedis(t, srv.URL(0), func(o *RedisOptions) { o.TTL = ttl })
	c := raw(t, srv.URL(0))
	ctx := context.Background()
	pttl := func() time.Duration {
		t.Helper()
		d, err := c.PTTL(ctx, "cascade:history:ttl").Result()
		if err != nil || d <= 0 || d > ttl {
			t.Fatalf("PTTL %v %v, want (0, %v]", d, err, ttl)
		}
		return d
	}
	if _, err := s.Append(ctx, []Event{ev("ttl", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	pttl()
	// Another event renews it: the key's time to live goes back up. Compared with what was left
	// just before, so a slow (loaded) machine cannot fail it with a late wake-up.
	time.Sleep(300 * time.Millisecond)
	before := pttl()
	if _, err := s.Append(ctx, []Event{ev("ttl", 2, 2)}); err != nil {
		t.Fatal(err)
	}
	if after := pttl(); after <= before {
		t.Fatalf("PTTL %v after the second event, %v before it: not renewed", after, before)
	}
	if h, _ := s.History(ctx, "ttl", nil); len(h) != 2 {
		t.Fatalf("history %v after a renewal, want 2 events", items(h))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, err := s.History(ctx, "ttl", nil)
		if err == nil && len(h) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history %v %v 5 s after its TTL", items(h), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Many writers append to one user while a reader watches the list's length: append and trim
// are one transaction, so the reader never sees more than PerUser events.
func TestRedisAppendTrimAtomic(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Persistence: redistest.RDBOnly})
	const perUser = 20
	s := openRedis(t, srv.URL(0), func(o *RedisOptions) { o.PerUser = perUser })
	c := raw(t, srv.URL(0))
	ctx := context.Background()
	var wg sync.WaitGroup
	var stop atomic.Bool
	var longest atomic.Int64
	wg.Go(func() {
		for !stop.Load() {
			n, err := c.LLen(ctx, "cascade:history:hot").Result()
			if err == nil && n > longest.Load() {
				longest.Store(n)
			}
		}
	})
	var writers sync.WaitGroup
	for g := range 4 {
		writers.Go(func() {
			for i := range 100 {
				batch := make([]Event, 15)
				for j := range batch {
					batch[j] = ev("hot", (g*250+i*15+j)%1000, i)
				}
				if _, err := s.Append(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writers.Wait()
	stop.Store(true)
	wg.Wait()
	h, err := s.History(ctx, "hot", nil)
	if err != nil || len(h) != perUser || longest.Load() > perUser || longest.Load() == 0 {
		t.Fatalf("history of %d events (%v), longest list seen %d, want at most %d", len(h), err, longest.Load(), perUser)
	}
}

// A server that is down or hung costs a call at most its timeout, the error says the store is
// unavailable, and the store recovers by itself when the server is back.
func TestRedisDownOrHungIsBoundedAndRecovers(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	var log redistest.SyncBuffer
	s := openRedis(t, srv.URL(0), func(o *RedisOptions) {
		o.ReadTimeout, o.WriteTimeout = 50*time.Millisecond, 200*time.Millisecond
		o.Logger = slog.New(slog.NewTextHandler(&log, nil))
	})
	ctx := context.Background()
	if _, err := s.Append(ctx, []Event{ev("r", 1, 1)}); err != nil {
		t.Fatal(err)
	}
	check := func(state string, limit time.Duration, outage bool) {
		t.Helper()
		start := time.Now()
		_, err := s.Append(ctx, []Event{ev("r", 2, 2)})
		if el := time.Since(start); !errors.Is(err, ErrUnavailable) || el > limit {
			t.Errorf("%s: append: %v after %s, want ErrUnavailable within %s", state, err, el, limit)
		}
		start = time.Now()
		h, err := s.History(ctx, "r", nil)
		if el := time.Since(start); !errors.Is(err, ErrUnavailable) || len(h) != 0 || el > limit {
			t.Errorf("%s: history %v: %v after %s, want ErrUnavailable within %s", state, h, err, el, limit)
		}
		// The caller's deadline is tighter still.
		dctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		start = time.Now()
		if _, err := s.History(dctx, "r", nil); err == nil || time.Since(start) > 10*time.Millisecond+limit/2 {
			t.Errorf("%s: history past the caller's deadline: %v after %s", state, err, time.Since(start))
		}
		if st := s.Stats(); st.Up == outage {
			t.Errorf("%s: stats say up = %v", state, st.Up)
		}
		if n := strings.Count(log.String(), "Redis is unavailable"); n != map[bool]int{false: 0, true: 1}[outage] {
			t.Errorf("%s: the outage logged %d times:\n%s", state, n, log.String())
		}
	}
	// Frozen for less than a second: each call fails within its timeout, but that is not yet an
	// outage (nothing logged: a slow moment under load must not flap the log).
	srv.Pause()
	check("hung", 400*time.Millisecond, false)
	srv.Resume()
	// Killed: the refused connection is an outage at once, logged once however many calls fail.
	srv.Kill()
	check("down", 400*time.Millisecond, true)
	check("still down", 400*time.Millisecond, true)
	srv.Restart() // AOF always: the acknowledged event is back
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, err := s.History(ctx, "r", nil)
		if err == nil {
			// The append refused while Redis was frozen had reached its socket: Redis may have
			// applied it on SIGCONT, before the kill (a 503 is not a promise of absence). The
			// one refused while it was down never reached it.
			if got := items(h); !slices.Equal(got, []int32{1}) && !slices.Equal(got, []int32{1, 2}) {
				t.Fatalf("after the restart: %v, want [1] or [1 2]", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery 5 s after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := s.Append(ctx, []Event{ev("r", 3, 3)}); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	if st := s.Stats(); !st.Up || st.AppendErrors != 3 || st.ReadErrors < 6 {
		t.Errorf("stats %+v", st)
	}
	if n := strings.Count(log.String(), "Redis answers again"); n != 1 {
		t.Errorf("the recovery logged %d times:\n%s", n, log.String())
	}
}

// Acknowledged events survive SIGKILL of redis-server with appendfsync always.
func TestRedisKillKeepsAcknowledged(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Persistence: redistest.AOFAlways})
	s := openRedis(t, srv.URL(2), nil)
	ctx := context.Background()
	for i := range 200 {
		if _, err := s.Append(ctx, []Event{ev(fmt.Sprint("k", i), i%1000, i), ev(fmt.Sprint("k", i), (i+1)%1000, i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	srv.Kill()
	srv.Restart()
	o := raw(t, srv.URL(2))
	for i := range 200 {
		n, err := o.LLen(ctx, fmt.Sprint("cascade:history:k", i)).Result()
		if err != nil || n != 2 {
			t.Fatalf("user k%d: %d events after kill -9 and restart (%v), want 2", i, n, err)
		}
	}
}

func TestRedisOptionsValidated(t *testing.T) {
	for _, tc := range []struct {
		opt  RedisOptions
		want string
	}{
		{RedisOptions{URL: "http://127.0.0.1:6379"}, "invalid URL scheme"},
		{RedisOptions{URL: "redis://127.0.0.1:6379/x"}, "invalid database number"},
		{RedisOptions{URL: "unix:///tmp/redis.sock"}, "want redis://host:port/db"},
		{RedisOptions{URL: "redis://127.0.0.1:1/0", PerUser: -1}, "per-user limit"},
		{RedisOptions{URL: "redis://127.0.0.1:1/0", TTL: -time.Second}, "TTL"},
		{RedisOptions{URL: "redis://127.0.0.1:1/0", TTL: time.Microsecond}, "TTL"},
		{RedisOptions{URL: "redis://127.0.0.1:1/0", ReadTimeout: -1}, "negative Redis timeout"},
		{RedisOptions{URL: "redis://:secret@127.0.0.1:6379/x"}, "xxxxx"},
	} {
		tc.opt.Logger = quiet()
		_, err := OpenRedis(context.Background(), tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%+v: %v, want an error naming %q (and no password)", tc.opt, err, tc.want)
		}
	}
	// A server that does not answer is not an error at open: the store reports it per call.
	s, err := OpenRedis(context.Background(), RedisOptions{URL: "redis://127.0.0.1:1/0", Logger: quiet(), Catalog: catalog{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(context.Background(), []Event{ev("u", 1, 1)}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("append to a closed port: %v", err)
	}
	for _, bad := range []Event{{User: "", Item: "i1"}, {User: "u", Item: ""}, {User: "u", Item: strings.Repeat("x", 1<<16)}} {
		if _, err := s.Append(context.Background(), []Event{bad}); err == nil || errors.Is(err, ErrUnavailable) {
			t.Errorf("append %.20q: %v, want a validation error", bad.User+"/"+bad.Item, err)
		}
	}
}

// BenchmarkRedisHistory reads a 33-event history (the fleet benchmark's mean) from a real
// redis-server over loopback: the round trip a recommendation pays with --history redis://….
//
//	go test -run '^$' -bench RedisHistory ./server/history/
func BenchmarkRedisHistory(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	// A generous read timeout: on a loaded machine a read may miss the 25 ms default, and the
	// benchmark measures the round trip, not the timeout.
	s, err := OpenRedis(context.Background(), RedisOptions{URL: srv.URL(0), Catalog: dictCatalog{}, Logger: quiet(), ReadTimeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	batch := make([]Event, 33)
	for i := range batch {
		batch[i] = ev("bench", i, 1700000000+i)
	}
	if _, err := s.Append(ctx, batch); err != nil {
		b.Fatal(err)
	}
	var dst []Entry
	b.ResetTimer()
	for b.Loop() {
		if dst, err = s.History(ctx, "bench", dst); err != nil || len(dst) != 33 {
			b.Fatal(len(dst), err)
		}
	}
}

// dictCatalog resolves item IDs with a map lookup, as the data set's dictionary does.
type dictCatalog struct{}

var benchItems = func() map[string]int32 {
	m := map[string]int32{}
	for i := range 1000 {
		m[fmt.Sprintf("i%d", i)] = int32(i)
	}
	return m
}()

func (dictCatalog) Lookup(id string) (int32, bool) { n, ok := benchItems[id]; return n, ok }
