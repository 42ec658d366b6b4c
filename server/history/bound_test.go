package history

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Item 10: the log is bounded by MaxLogBytes however many distinct users write (compaction
// used to trim only per user); the least recently active users go first.
func TestLogStaysWithinItsBound(t *testing.T) {
	const bound = 1 << 20
	dir := t.TempDir()
	path := filepath.Join(dir, "events.log")
	s := open(t, Options{Dir: dir, Sync: SyncNever, PerUser: 5, MaxLogBytes: bound})
	ctx := context.Background()
	var written int64
	for b := range 60 {
		batch := make([]Event, 1000)
		for i := range batch {
			batch[i] = ev(fmt.Sprintf("user-%06d", b*1000+i), i, b*1000+i)
		}
		if _, err := s.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
		written += int64(len(appendRecord(nil, batch[0]))) * 1000
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > bound || s.Stats().LogBytes != st.Size() {
			t.Fatalf("after %d events: the log is %d bytes (stats %d), bound %d", (b+1)*1000, st.Size(), s.Stats().LogBytes, bound)
		}
	}
	st := s.Stats()
	t.Logf("%d bytes written, log %d bytes, %d users dropped by the bound", written, st.LogBytes, st.DroppedUsers)
	if written < bound*3/2 || st.DroppedUsers == 0 || st.DroppedEvents < st.DroppedUsers {
		t.Fatalf("the test did not exercise the bound: %+v", st)
	}
	s.Close()
	s = open(t, Options{Dir: dir, PerUser: 5, MaxLogBytes: bound})
	defer s.Close()
	if len(s.History("user-059999", nil)) != 1 {
		t.Error("the most recent user was dropped")
	}
	if len(s.History("user-000000", nil)) != 0 {
		t.Error("the least recent user was kept past the bound")
	}
	if got := s.Stats().Appended; got < 1000 || got > 60000-st.DroppedEvents {
		t.Errorf("%d events replayed", got)
	}
}

// inMemory reports whether the store holds the user, without asking for a read-back.
func inMemory(s *Store, id string) bool {
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, ok := sh.users[id]
	return ok
}

// waitHistory polls until the user's history is want (read-back runs in the background).
func waitHistory(t *testing.T, s *Store, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := fmt.Sprint(items(s.History(id, nil)))
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: history %s, want %s (read back from the log)", id, got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// flood writes events of n new users, in order, until the memory bound has evicted every
// user in gone.
func flood(t *testing.T, s *Store, prefix string, gone ...string) {
	t.Helper()
	for b := 0; ; b++ {
		batch := make([]Event, 1000)
		for i := range batch {
			batch[i] = ev(fmt.Sprintf("%s-%07d", prefix, b*1000+i), i, 5000)
		}
		if _, err := s.Append(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		out := 0
		for _, u := range gone {
			if !inMemory(s, u) {
				out++
			}
		}
		if out == len(gone) {
			return
		}
		if b > 200 {
			t.Fatalf("%v still in memory", gone)
		}
	}
}

// Item 10: a user evicted from memory who returns gets their logged history back, not only
// the events since: when they post an event, when a request reads their history, and when the
// replay at open evicted them.
func TestReturningUserGetsLoggedHistoryBack(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Dir: dir, Sync: SyncNever, PerUser: 10, MaxBytes: 1 << 20}
	s := open(t, opt)
	ctx := context.Background()
	for i := 1; i <= 12; i++ {
		s.Append(ctx, []Event{ev("poster", i, i), ev("reader", 100+i, i)})
	}
	flood(t, s, "a", "poster", "reader")

	// Returns with an event: the 9 logged events before it come back.
	if _, err := s.Append(ctx, []Event{ev("poster", 13, 13)}); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, s, "poster", "[4 5 6 7 8 9 10 11 12 13]")
	// Returns with a request only.
	waitHistory(t, s, "reader", "[103 104 105 106 107 108 109 110 111 112]")
	if st := s.Stats(); st.ReadBack < 2 || st.Bytes > st.MaxBytes {
		t.Errorf("%+v", st)
	}
	// A user the log never had: nothing to read back, nothing invented.
	if h := s.History("stranger", nil); len(h) != 0 {
		t.Errorf("stranger: %v", h)
	}

	// Evicted again, and back once more, the event landing just after.
	flood(t, s, "b", "poster")
	s.Append(ctx, []Event{ev("poster", 14, 14)})
	s.Close()

	// The replay evicts poster (the floods) before their last event: a returning user too.
	s = open(t, opt)
	defer s.Close()
	waitHistory(t, s, "poster", "[5 6 7 8 9 10 11 12 13 14]")
	waitHistory(t, s, "reader", "[103 104 105 106 107 108 109 110 111 112]")
}

// Read-backs and compactions interleave: a pass whose file was swapped under it is redone, and
// the history that comes back is the same.
func TestReadBackAcrossCompactions(t *testing.T) {
	s := open(t, Options{Dir: t.TempDir(), Sync: SyncNever, PerUser: 10, MaxBytes: 1 << 20})
	defer s.Close()
	ctx := context.Background()
	for i := 1; i <= 15; i++ {
		s.Append(ctx, []Event{ev("back", i, i)})
	}
	flood(t, s, "a", "back")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			if err := s.Compact(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	waitHistory(t, s, "back", "[6 7 8 9 10 11 12 13 14 15]")
	<-done
}

// BenchmarkReadBack measures one returning user's read-back on a log of 100,000 events
// (a pass over the file, then the install).
func BenchmarkReadBack(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), Sync: SyncNever, PerUser: 10, MaxBytes: 1 << 20, Catalog: catalog{}, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for k := range 100 {
		batch := make([]Event, 1000)
		for i := range batch {
			batch[i] = ev(fmt.Sprintf("user-%06d", k*1000+i), i, i)
		}
		s.Append(ctx, batch)
	}
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("user-%06d", i%1000) // evicted long ago
		for len(s.History(id, nil)) == 0 {
			time.Sleep(100 * time.Microsecond)
		}
	}
}
