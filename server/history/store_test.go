package history

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// catalog knows items "i0" … "i999".
type catalog struct{}

func (catalog) Lookup(id string) (int32, bool) {
	var n int32
	if _, err := fmt.Sscanf(id, "i%d", &n); err != nil || n < 0 || n >= 1000 || fmt.Sprintf("i%d", n) != id {
		return 0, false
	}
	return n, true
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t *testing.T, opt Options) *Store {
	t.Helper()
	if opt.Catalog == nil {
		opt.Catalog = catalog{}
	}
	if opt.Logger == nil {
		opt.Logger = quiet()
	}
	s, err := Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ev(user string, item, t int) Event {
	return Event{User: user, Item: fmt.Sprintf("i%d", item), Time: int64(t), Value: float32(math.NaN())}
}

func items(h []Entry) []int32 {
	var out []int32
	for _, e := range h {
		out = append(out, e.Item)
	}
	return out
}

func TestAppendHistoryPerUserBound(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		s := open(t, Options{Dir: dir, PerUser: 3})
		ctx := context.Background()
		for i := range 5 {
			if _, err := s.Append(ctx, []Event{ev("a", i, 100+i)}); err != nil {
				t.Fatal(err)
			}
		}
		unknown, err := s.Append(ctx, []Event{ev("b", 7, 1), {User: "b", Item: "not-in-catalog", Time: 2}, {User: "a", Item: "zzz", Time: 200}})
		if err != nil || unknown != 2 {
			t.Fatalf("unknown %d, %v", unknown, err)
		}
		if got := fmt.Sprint(items(s.History("a", nil))); got != "[2 3 4]" {
			t.Errorf("dir %q: a's history %s, want the last 3", dir, got)
		}
		if h := s.History("b", nil); len(h) != 1 || h[0].Item != 7 || h[0].Time != 1 {
			t.Errorf("b's history %+v", h)
		}
		if h := s.History("nobody", nil); len(h) != 0 {
			t.Errorf("unknown user has history %v", h)
		}
		st := s.Stats()
		if st.Users != 2 || st.Events != 4 || st.Appended != 8 || st.Unknown != 2 || st.Bytes <= 0 {
			t.Errorf("stats %+v", st)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRestartKeepsAcknowledgedEvents(t *testing.T) {
	for _, sync := range []Sync{SyncAlways, SyncInterval, SyncNever} {
		dir := t.TempDir()
		s := open(t, Options{Dir: dir, Sync: sync})
		e := ev("u", 1, 10)
		e.Value = 4.5
		batch := []Event{e, ev("u", 2, 11), ev("v", 3, 12), {User: "v", Item: "unknown", Time: 13}}
		if _, err := s.Append(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		before := s.History("u", nil)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t, Options{Dir: dir})
		after := s.History("u", nil)
		if fmt.Sprint(before) != fmt.Sprint(after) || after[0].Value != 4.5 || !math.IsNaN(float64(after[1].Value)) {
			t.Errorf("%s: before %v, after restart %v", sync, before, after)
		}
		if st := s.Stats(); st.Appended != 4 || st.Unknown != 1 {
			t.Errorf("%s: replayed %+v", sync, st)
		}
		s.Close()
	}
}

// A crash in the middle of a write leaves a partial record at the end: Open drops it with a
// warning, keeps every earlier event, and the log takes appends again.
func TestTornLastRecordDropped(t *testing.T) {
	dir := t.TempDir()
	s := open(t, Options{Dir: dir})
	for i := range 3 {
		s.Append(context.Background(), []Event{ev("u", i, i)})
	}
	s.Close()
	path := filepath.Join(dir, "events.log")
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := len(appendRecord(nil, ev("u", 2, 2)))
	for cut := 1; cut < rec; cut++ {
		os.WriteFile(path, full[:len(full)-cut], 0o644)
		var logs bytes.Buffer
		s := open(t, Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if got := fmt.Sprint(items(s.History("u", nil))); got != "[0 1]" {
			t.Fatalf("cut %d: history %s, want the first two events", cut, got)
		}
		if !strings.Contains(logs.String(), "torn") {
			t.Fatalf("cut %d: no warning: %s", cut, logs.String())
		}
		if _, err := s.Append(context.Background(), []Event{ev("u", 9, 9)}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = open(t, Options{Dir: dir})
		if got := fmt.Sprint(items(s.History("u", nil))); got != "[0 1 9]" {
			t.Fatalf("cut %d: after the repair and an append: %s", cut, got)
		}
		s.Close()
	}
	// A damaged last record (bad checksum) is dropped the same way.
	damaged := bytes.Clone(full)
	damaged[len(damaged)-3] ^= 0x55
	os.WriteFile(path, damaged, 0o644)
	s = open(t, Options{Dir: dir})
	if got := fmt.Sprint(items(s.History("u", nil))); got != "[0 1]" {
		t.Fatalf("damaged record: %s", got)
	}
	s.Close()
	// A file that is not a log is refused, not truncated.
	os.WriteFile(path, []byte("user,item\nx,y\n"), 0o644)
	if _, err := Open(Options{Dir: dir, Logger: quiet()}); err == nil || !strings.Contains(err.Error(), "not a Cascade event log") {
		t.Fatalf("foreign file: %v", err)
	}
}

func TestCompactionKeepsLastPerUserAndUnknownItems(t *testing.T) {
	dir := t.TempDir()
	s := open(t, Options{Dir: dir, PerUser: 3})
	ctx := context.Background()
	for i := range 10 {
		for u := range 5 {
			s.Append(ctx, []Event{ev(fmt.Sprint("u", u), i, i)})
		}
	}
	s.Append(ctx, []Event{{User: "u0", Item: "unknown-item", Time: 99}})
	before := s.Stats().LogBytes
	// Appends keep coming while compaction runs; none may be lost.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := s.Append(ctx, []Event{ev(fmt.Sprint("w", g), i, 1000+i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	after := s.Stats().LogBytes
	want := map[string]string{}
	for _, u := range []string{"u0", "u1", "u4", "w0", "w3"} {
		want[u] = fmt.Sprint(s.History(u, nil))
	}
	s.Close()
	if after >= before+int64(200*30) {
		t.Errorf("log %d bytes before, %d after compaction", before, after)
	}
	s = open(t, Options{Dir: dir, PerUser: 3})
	defer s.Close()
	for u, h := range want {
		if got := fmt.Sprint(s.History(u, nil)); got != h {
			t.Errorf("%s: %s after reopen, %s before", u, got, h)
		}
	}
	if got := fmt.Sprint(items(s.History("u0", nil))); got != "[7 8 9]" {
		t.Errorf("u0 %s: want its last 3 catalog events", got)
	}
	// 5 users × 3, u0's unknown item, w0..w3 (≥ 3 each, all 50 if they came after the compacted
	// prefix).
	if st := s.Stats(); st.Unknown != 1 || st.Appended < 5*3+1+4*3 || st.Appended > 5*3+1+4*50 {
		t.Errorf("after compaction the log holds %+v", st)
	}
}

// The accounted bytes bound the store, and they track the real heap.
func TestMemoryBound(t *testing.T) {
	const users, perUser = 20000, 10
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	fill := func(s *Store) {
		batch := make([]Event, 0, 1000)
		for i := range users * perUser {
			batch = append(batch, ev(fmt.Sprintf("user-%06d", i%users), i%1000, i))
			if len(batch) == cap(batch) {
				s.Append(context.Background(), batch)
				batch = batch[:0]
			}
		}
	}
	// Unbounded: the accounting against the heap.
	h0 := heap()
	s := open(t, Options{MaxBytes: 1 << 30, PerUser: 50})
	fill(s)
	grown := float64(heap()) - float64(h0)
	st := s.Stats()
	t.Logf("%d users, %d events: accounted %d bytes, heap grew %.0f (ratio %.2f)", st.Users, st.Events, st.Bytes, grown, grown/float64(st.Bytes))
	if st.Users != users || grown > 1.5*float64(st.Bytes) || grown < 0.5*float64(st.Bytes) {
		t.Errorf("accounting off: %d accounted, heap grew %.0f", st.Bytes, grown)
	}
	runtime.KeepAlive(s)
	s.Close()

	// Bounded: the least recently written users go.
	s = open(t, Options{MaxBytes: 1 << 20, PerUser: 50})
	defer s.Close()
	fill(s)
	st = s.Stats()
	t.Logf("bound 1 MiB: %d users, %d events, %d bytes, %d evicted", st.Users, st.Events, st.Bytes, st.Evicted)
	if st.Bytes > st.MaxBytes || st.Evicted == 0 || st.Users == 0 {
		t.Fatalf("bound not kept: %+v", st)
	}
	// Users are written round-robin, so each is evicted before its next event: the most recent
	// one is there.
	if h := s.History(fmt.Sprintf("user-%06d", users-1), nil); len(h) == 0 {
		t.Error("the most recently written user was evicted")
	}
}

func TestConcurrentAppendAndRead(t *testing.T) {
	s := open(t, Options{Dir: t.TempDir(), PerUser: 20})
	defer s.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			var buf []Entry
			for i := range 200 {
				u := fmt.Sprint("u", (g+i)%10)
				if _, err := s.Append(context.Background(), []Event{ev(u, i, i), ev(u, i+1, i)}); err != nil {
					t.Error(err)
					return
				}
				buf = s.History(u, buf)
				if len(buf) == 0 || len(buf) > 20 {
					t.Errorf("history of %d", len(buf))
					return
				}
			}
		})
	}
	wg.Wait()
	if st := s.Stats(); st.Appended != 8*200*2 || st.Events != 10*20 {
		t.Fatalf("%+v", st)
	}
}

func TestOptionsValidated(t *testing.T) {
	for _, o := range []Options{{PerUser: -1}, {MaxBytes: 100}, {Sync: "sometimes"}} {
		if _, err := Open(o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
