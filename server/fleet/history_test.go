package fleet

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/server"
	"github.com/cascade-rec/cascade/server/internal/redistest"
)

// An event posted to one replica shapes the very next answer of the other: the user's history
// grows by the posted items, and they are no longer recommended (seen items are filtered out).
func TestReadYourWritesAcrossReplicas(t *testing.T) {
	w := getWorld(t)
	srv := redistest.Start(t, redistest.Options{})
	a := startReplica(t, w, srv.URL(0), nil)
	b := startReplica(t, w, srv.URL(0), nil)
	known := w.ds.Users.String(w.ds.Events[len(w.ds.Events)-1].User)
	for _, tc := range []struct {
		name           string
		writer, reader *replica
		user           string
	}{
		{"a new user, A then B", a, b, "ryw-new-1"},
		{"a new user, B then A", b, a, "ryw-new-2"},
		{"a data set user, A then B", a, b, known},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := recommend(t, tc.reader.public, tc.user, 10)
			take := before.itemIDs()[:3]
			var body strings.Builder
			body.WriteByte('[')
			for i, it := range append(take, "not-in-the-catalog") {
				fmt.Fprintf(&body, `%s{"user_id": %q, "item_id": %q, "timestamp": %d}`, map[bool]string{true: ",", false: ""}[i > 0], tc.user, it, 1900000000+i)
			}
			body.WriteByte(']')
			var ack struct {
				Accepted     int `json:"accepted"`
				UnknownItems int `json:"unknown_items"`
			}
			if code, err := post(tc.writer.public, "/v1/events", body.String(), &ack); err != nil || code != 200 || ack.Accepted != 4 || ack.UnknownItems != 1 {
				t.Fatalf("events: %d %v %+v", code, err, ack)
			}
			after := recommend(t, tc.reader.public, tc.user, 10) // at once, on the other replica
			if after.HistoryLen != before.HistoryLen+3 || !after.UserKnown || after.Fallback || len(after.Warnings) != 0 {
				t.Fatalf("before: history %d fallback %v; after: history %d, known %v, fallback %v, warnings %q",
					before.HistoryLen, before.Fallback, after.HistoryLen, after.UserKnown, after.Fallback, after.Warnings)
			}
			for _, it := range take {
				if slices.Contains(after.itemIDs(), it) {
					t.Errorf("item %s, posted as seen on the other replica, is still recommended: %v", it, after.itemIDs())
				}
			}
		})
	}
	if before := recommend(t, a.public, "ryw-nobody", 10); before.HistoryLen != 0 || !before.Fallback || before.UserKnown {
		t.Errorf("a user nobody posted for: %+v", before)
	}
}

// outcome tallies one kind of request during a phase of TestRedisOutageUnderLoad.
type outcome struct {
	mu       sync.Mutex
	statuses map[string]int
	warned   int
	slowest  time.Duration
}

func (o *outcome) add(status string, warned bool, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.statuses == nil {
		o.statuses = map[string]int{}
	}
	o.statuses[status]++
	if warned {
		o.warned++
	}
	o.slowest = max(o.slowest, took)
}

func (o *outcome) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Sprintf("%v, %d with the history_unavailable warning, slowest %s", o.statuses, o.warned, o.slowest.Round(time.Millisecond))
}

// Redis killed, restarted, then hung (SIGSTOP) while two replicas take recommendations and
// events: no recommendation fails or overruns its deadline (those made without the live history
// say so), events are refused with 503 history_unavailable while Redis is away and accepted
// again after, and every acknowledged event is in Redis at the end.
func TestRedisOutageUnderLoad(t *testing.T) {
	w := getWorld(t)
	srv := redistest.Start(t, redistest.Options{})
	// Reads wait up to 100 ms (not the 25 ms default), so that on a loaded machine reads while
	// Redis is up do not miss it; appends 300 ms.
	timeouts := func(c *server.Config) {
		c.Redis.ReadTimeout, c.Redis.WriteTimeout = 100*time.Millisecond, 300*time.Millisecond
	}
	a := startReplica(t, w, srv.URL(0), timeouts)
	b := startReplica(t, w, srv.URL(0), timeouts)
	bases := []string{a.public, b.public}
	for _, base := range bases { // connections open before the clock starts
		for range 4 {
			recommend(t, base, "warm-up", 5)
		}
	}
	const deadline = 300 * time.Millisecond // the replicas' RequestTimeout
	users := w.ds.Users.IDs()

	phase := atomic.Pointer[string]{}
	setPhase := func(p string) { phase.Store(&p) }
	setPhase("up")
	var mu sync.Mutex
	recs, evs := map[string]*outcome{}, map[string]*outcome{}
	get := func(m map[string]*outcome, p string) *outcome {
		mu.Lock()
		defer mu.Unlock()
		if m[p] == nil {
			m[p] = &outcome{}
		}
		return m[p]
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Go(func() {
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := *phase.Load()
				var ans answer
				start := time.Now()
				user := users[(g*7919+i)%len(users)]
				code, err := post(bases[i%2], "/v1/recommend", fmt.Sprintf(`{"user_id": %q, "k": 10}`, user), &ans)
				status := fmt.Sprint(code)
				if err != nil {
					status = "transport error"
				} else if code == 200 && len(ans.Items) == 0 {
					status = "200 without items"
				}
				warned := slices.ContainsFunc(ans.Warnings, func(s string) bool { return strings.HasPrefix(s, "history_unavailable") })
				get(recs, p).add(status, warned, time.Since(start))
			}
		})
	}
	poster := newPoster(w, "outage")
	for g := range 2 {
		wg.Go(func() {
			for i := 0; i < 100000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := *phase.Load()
				start := time.Now()
				before := poster.refused.Load()
				ok := poster.post(bases[i%2], g*100000+i)
				status := "200"
				if !ok {
					status = "503 history_unavailable"
					if poster.refused.Load() == before {
						status = "other failure"
					}
				}
				get(evs, p).add(status, false, time.Since(start))
			}
		})
	}
	// recovered waits until an event posted to each replica is acknowledged.
	recovered := func(limit time.Duration) time.Duration {
		start := time.Now()
		for _, base := range bases {
			eventually(t, limit, "events accepted again after Redis came back", func() bool {
				code, err := post(base, "/v1/events", `{"user_id": "probe", "item_id": "probe"}`, nil)
				return err == nil && code == 200
			})
		}
		return time.Since(start)
	}
	time.Sleep(500 * time.Millisecond)
	setPhase("killed")
	srv.Kill()
	time.Sleep(700 * time.Millisecond)
	setPhase("restarted")
	srv.Restart()
	back := recovered(10 * time.Second)
	time.Sleep(300 * time.Millisecond)
	setPhase("hung")
	srv.Pause()
	time.Sleep(700 * time.Millisecond)
	setPhase("resumed")
	srv.Resume()
	backHung := recovered(10 * time.Second)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()

	for _, p := range []string{"up", "killed", "restarted", "hung", "resumed"} {
		t.Logf("%-9s recommend: %s", p, get(recs, p))
		t.Logf("%-9s events:    %s", p, get(evs, p))
	}
	t.Logf("events accepted again %s after the restart, %s after SIGCONT", back.Round(time.Millisecond), backHung.Round(time.Millisecond))
	for p, o := range recs {
		if len(o.statuses) != 1 || o.statuses["200"] == 0 {
			t.Errorf("%s: recommendations %v, want only 200 with items", p, o.statuses)
		}
		// Slack over the deadline for a loaded 2-core machine; a hang would be seconds.
		if o.slowest > deadline+700*time.Millisecond {
			t.Errorf("%s: a recommendation took %s (deadline %s)", p, o.slowest, deadline)
		}
	}
	for _, p := range []string{"killed", "hung"} {
		if get(recs, p).warned == 0 || get(evs, p).statuses["503 history_unavailable"] == 0 {
			t.Errorf("%s: no recommendation warned (%s) or no event was refused (%s)", p, get(recs, p), get(evs, p))
		}
	}
	// Before the kill no answer lacks the live history, but for the (at most one per client)
	// requests in flight when it happened.
	if o := get(recs, "up"); o.warned > 3 {
		t.Errorf("warnings while Redis was up: %s", o)
	}
	for p, o := range evs {
		if o.statuses["other failure"] != 0 {
			t.Errorf("%s: events failed otherwise than with 503 history_unavailable: %s (%s)", p, o, poster.statuses())
		}
		// The hung phase waits for the write timeout (300 ms); nothing waits for Redis longer.
		if o.slowest > 300*time.Millisecond+time.Second {
			t.Errorf("%s: an event post took %s", p, o.slowest)
		}
	}
	if acked, kept := poster.ackedEvents(), poster.kept(t, srv.URL(0)); acked == 0 || kept != acked {
		t.Errorf("%d events acknowledged, %d kept", acked, kept)
	}
}
