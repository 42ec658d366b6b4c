package history

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one interaction as clients send it.
type Event struct {
	User  string
	Item  string
	Time  int64   // Unix seconds
	Value float32 // explicit rating, NaN when none
}

// Entry is one remembered event of a user: a catalog item, its rating (NaN: none) and time.
type Entry struct {
	Item  int32
	Value float32
	Time  int64
}

// Catalog maps external item IDs to the dense IDs models use (a *dataset.Dict).
type Catalog interface {
	Lookup(id string) (int32, bool)
}

// Sync says when appended events reach stable storage.
type Sync string

const (
	// SyncAlways fsyncs before Append returns (group commit: one fsync covers every batch that
	// arrived while the previous one was being written). A crash loses nothing acknowledged.
	SyncAlways Sync = "always"
	// SyncInterval writes before Append returns and fsyncs every SyncInterval: a process crash
	// loses nothing, a power loss at most SyncInterval of events.
	SyncInterval Sync = "interval"
	// SyncNever leaves flushing to the operating system.
	SyncNever Sync = "never"
)

// Options configure a Store.
type Options struct {
	// Dir holds the log (events.log); empty keeps the store in memory only.
	Dir string
	// PerUser is how many of a user's latest events are kept (in memory and, after compaction,
	// in the log). Default 200.
	PerUser int
	// MaxBytes bounds the memory the store accounts for (users, their events, map overhead, the
	// filter of logged users); beyond it the users whose latest event is oldest are evicted from
	// memory. Their events stay in the log, and are read back when they return. Default 256 MiB.
	MaxBytes int64
	// MaxLogBytes bounds the log file. Compaction keeps each user's last PerUser events and,
	// when that is still more than half the bound, leaves out the users whose latest event is
	// oldest; appends wait for it rather than grow the file past the bound. Default 1 GiB.
	MaxLogBytes int64
	// Sync is the fsync policy (default SyncAlways); SyncInterval (default 1 s) paces SyncInterval.
	Sync         Sync
	SyncInterval time.Duration
	// CompactBytes: the log is compacted when it exceeds this size and twice its size after the
	// previous compaction. Default 64 MiB.
	CompactBytes int64
	// Catalog resolves item IDs; nil keeps no events in memory (log only).
	Catalog Catalog
	Logger  *slog.Logger
}

func (o *Options) defaults() error {
	if o.PerUser == 0 {
		o.PerUser = 200
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = 256 << 20
	}
	if o.MaxLogBytes == 0 {
		o.MaxLogBytes = 1 << 30
	}
	if o.Sync == "" {
		o.Sync = SyncAlways
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = time.Second
	}
	if o.CompactBytes == 0 {
		o.CompactBytes = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.PerUser < 1:
		return fmt.Errorf("history: per-user limit %d < 1", o.PerUser)
	case o.MaxBytes < 1<<20:
		return fmt.Errorf("history: memory bound %d bytes is below 1 MiB", o.MaxBytes)
	case o.MaxLogBytes < 1<<20:
		return fmt.Errorf("history: log bound %d bytes is below 1 MiB", o.MaxLogBytes)
	case o.Sync != SyncAlways && o.Sync != SyncInterval && o.Sync != SyncNever:
		return fmt.Errorf("history: sync policy %q (want always, interval or never)", o.Sync)
	case o.SyncInterval < 0 || o.CompactBytes < 0:
		return errors.New("history: negative sync interval or compaction size")
	}
	return nil
}

// shards splits the users so that concurrent requests rarely share a lock; each shard holds
// MaxBytes/shards.
const shards = 16

// Accounting constants: the bytes a user costs beyond its ID and events (the map slot, the user
// struct, slice and string headers) and per remembered event. Estimates, checked against the heap
// by TestMemoryBound.
const (
	userOverhead = 160
	entryBytes   = 16
)

// Store is the live history store. It is safe for concurrent use.
type Store struct {
	opt    Options
	seed   maphash.Seed
	shards [shards]shard
	log    *eventLog // nil when in memory only

	appended, unknown, evicted, readBack atomic.Int64
	closeOnce                            sync.Once
	closeErr                             error
}

type shard struct {
	mu    sync.Mutex
	users map[string]*user
	// lru is a circular list through user.prev/next; lru.next is the least recently written.
	lru   user
	bytes int64
	limit int64
	n     int64 // events held
}

type user struct {
	id         string
	ev         []Entry // ring buffer once full: oldest at head
	head       int
	prev, next *user
	// partial: the log may hold older events of this user than memory does (the user was
	// evicted and came back); a read-back is due.
	partial bool
}

// Open opens (or creates) the store in opt.Dir, replaying its log.
func Open(opt Options) (*Store, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	s := &Store{opt: opt, seed: maphash.MakeSeed()}
	// The filter of logged users takes its share of the memory bound: a bit per 4 bytes of log
	// (8 bits for a user with one event), at most a sixteenth of the bound.
	var filterBytes int64
	if opt.Dir != "" {
		filterBytes = min(opt.MaxLogBytes/32, opt.MaxBytes/16)
	}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.users = map[string]*user{}
		sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
		sh.limit = (opt.MaxBytes - filterBytes) / shards
	}
	if opt.Dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	start := time.Now()
	s.log = newLog(filepath.Join(opt.Dir, "events.log"), opt, s, filterBytes)
	rep, err := s.log.open()
	if err != nil {
		return nil, err
	}
	st := s.Stats()
	opt.Logger.Info("history store opened", "dir", opt.Dir, "events_replayed", rep.events, "users", st.Users,
		"events_in_memory", st.Events, "bytes", st.Bytes, "log_bytes", st.LogBytes, "damaged_runs", rep.regions,
		"seconds", time.Since(start).Seconds())
	return s, nil
}

// Append records events: written to the log (durable per the sync policy) before it returns,
// then visible to History. Items the catalog does not know are logged but not kept in memory;
// the number of those is returned.
func (s *Store) Append(ctx context.Context, evs []Event) (unknown int, err error) {
	if len(evs) == 0 {
		return 0, nil
	}
	if s.log != nil {
		// The log applies the batch to memory itself, in log order, so that memory and log
		// agree on the order of concurrent batches.
		return s.log.append(ctx, evs)
	}
	return s.apply(evs), nil
}

// apply adds events to memory and returns how many had unknown items.
func (s *Store) apply(evs []Event) int {
	unknown := 0
	for _, e := range evs {
		s.appended.Add(1)
		var item int32 = -1
		if s.opt.Catalog != nil {
			if id, ok := s.opt.Catalog.Lookup(e.Item); ok {
				item = id
			}
		}
		// Run by the log's writer after the event is written (or by its replay): the filter
		// learns the user, and says whether they may have older logged events.
		logged := s.log != nil && s.log.seen(e.User)
		if item < 0 {
			unknown++
			continue
		}
		if s.shard(e.User).add(e.User, Entry{Item: item, Value: e.Value, Time: e.Time}, s.opt.PerUser, logged, &s.evicted) {
			s.log.want(e.User)
		}
	}
	s.unknown.Add(int64(unknown))
	return unknown
}

// install replaces what memory holds of a user with their history as read back from the log
// (evs: their last catalog events, oldest first) and makes them the most recently active.
func (s *Store) install(id string, evs []Event) {
	entries := make([]Entry, 0, len(evs))
	for _, e := range evs {
		if item, ok := s.opt.Catalog.Lookup(e.Item); ok {
			entries = append(entries, Entry{Item: item, Value: e.Value, Time: e.Time})
		}
	}
	entries = entries[max(0, len(entries)-s.opt.PerUser):]
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	u := sh.touch(id)
	sh.bytes += int64(cap(entries)-cap(u.ev)) * entryBytes
	sh.n += int64(len(entries) - len(u.ev))
	u.ev, u.head, u.partial = entries, 0, false
	sh.evict(u, &s.evicted)
	if len(entries) > 0 {
		s.readBack.Add(1)
	}
}

func (s *Store) shard(userID string) *shard {
	return &s.shards[maphash.String(s.seed, userID)%shards]
}

// add appends e to the user's events. A user not in memory whom the log may know (logged)
// comes back partial; add reports when that happened, so that a read-back is asked for.
func (sh *shard) add(id string, e Entry, perUser int, logged bool, evicted *atomic.Int64) (returned bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.users[id]; !ok && logged {
		returned = true
	}
	u := sh.touch(id)
	if returned {
		u.partial = true
	}
	if len(u.ev) < perUser {
		if len(u.ev) == cap(u.ev) {
			// Grow by doubling up to perUser, so that a user with few events costs little.
			grown := make([]Entry, len(u.ev), min(perUser, max(4, 2*cap(u.ev))))
			copy(grown, u.ev)
			sh.bytes += int64(cap(grown)-cap(u.ev)) * entryBytes
			u.ev = grown
		}
		u.ev = append(u.ev, e)
		sh.n++
	} else {
		u.ev[u.head] = e
		u.head = (u.head + 1) % len(u.ev)
	}
	sh.evict(u, evicted)
	return returned
}

// touch returns the user, added when new, as the most recently active.
func (sh *shard) touch(id string) *user {
	u, ok := sh.users[id]
	if !ok {
		id = strings.Clone(id) // do not pin the buffer the ID was decoded from
		u = &user{id: id}
		sh.users[id] = u
		sh.bytes += userOverhead + int64(len(id))
	} else {
		u.prev.next, u.next.prev = u.next, u.prev // unlink; relinked as most recent below
	}
	u.prev, u.next = sh.lru.prev, &sh.lru
	sh.lru.prev.next = u
	sh.lru.prev = u
	return u
}

// evict drops the least recently active users, never keep, until the shard fits its bound.
func (sh *shard) evict(keep *user, evicted *atomic.Int64) {
	for sh.bytes > sh.limit && sh.lru.next != keep {
		old := sh.lru.next
		old.prev.next, old.next.prev = old.next, old.prev
		delete(sh.users, old.id)
		sh.bytes -= userOverhead + int64(len(old.id)) + int64(cap(old.ev))*entryBytes
		sh.n -= int64(len(old.ev))
		evicted.Add(1)
	}
}

// History appends the user's remembered events, oldest first, to dst[:0]. For a user evicted
// from memory whose events are in the log, it asks for them to be read back and returns what
// memory has meanwhile (nothing, or the events since they came back).
func (s *Store) History(userID string, dst []Entry) []Entry {
	dst = dst[:0]
	sh := s.shard(userID)
	sh.mu.Lock()
	u, ok := sh.users[userID]
	if ok {
		dst = append(dst, u.ev[u.head:]...)
		dst = append(dst, u.ev[:u.head]...)
	}
	partial := ok && u.partial
	sh.mu.Unlock()
	if s.log != nil && (partial || !ok && s.log.logged(userID)) {
		s.log.want(userID)
	}
	return dst
}

// Stats describes the store's contents.
type Stats struct {
	Users    int   // users in memory
	Events   int64 // events in memory
	Bytes    int64 // accounted memory
	MaxBytes int64 // the bound
	// Appended counts events accepted since Open (including the log replay), Unknown those
	// whose item the catalog does not know, Evicted the users dropped by the memory bound,
	// ReadBack the users whose history was read back from the log when they returned.
	Appended, Unknown, Evicted, ReadBack int64
	LogBytes                             int64 // size of the log file (0 in memory)
	MaxLogBytes                          int64 // its bound
	// DamagedRuns counts the runs of bytes in the log that held no valid record and were
	// skipped (at open, or met by a compaction), DamagedBytes their bytes; each run held at
	// least one record or the header. The file as found is kept aside (events.log.damaged-*).
	DamagedRuns, DamagedBytes int64
	// DroppedUsers and DroppedEvents count what compaction left out of the log to keep it
	// within MaxLogBytes (the least recently active users, whole).
	DroppedUsers, DroppedEvents int64
}

// Stats returns current counts.
func (s *Store) Stats() Stats {
	st := Stats{MaxBytes: s.opt.MaxBytes, Appended: s.appended.Load(), Unknown: s.unknown.Load(), Evicted: s.evicted.Load(), ReadBack: s.readBack.Load()}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		st.Users += len(sh.users)
		st.Events += sh.n
		st.Bytes += sh.bytes
		sh.mu.Unlock()
	}
	if s.log != nil {
		st.Bytes += s.log.filterBytes
		st.LogBytes, st.MaxLogBytes = s.log.size.Load(), s.opt.MaxLogBytes
		st.DamagedRuns, st.DamagedBytes = s.log.damagedRuns.Load(), s.log.damagedBytes.Load()
		st.DroppedUsers, st.DroppedEvents = s.log.droppedUsers.Load(), s.log.droppedEvents.Load()
	}
	return st
}

// Flush forces every appended event to stable storage.
func (s *Store) Flush(ctx context.Context) error {
	if s.log == nil {
		return nil
	}
	return s.log.flush(ctx)
}

// Compact rewrites the log keeping each user's last PerUser events within MaxLogBytes, and
// waits for it. (The log also compacts itself as it grows.)
func (s *Store) Compact(ctx context.Context) error {
	if s.log == nil {
		return nil
	}
	return s.log.compactNow(ctx)
}

// Close flushes and closes the log. The store must not be used afterwards.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.log != nil {
			s.closeErr = s.log.close()
		}
	})
	return s.closeErr
}
