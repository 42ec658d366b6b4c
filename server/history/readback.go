package history

import (
	"io"
	"os"
	"sync"
	"time"
)

// Read-back: memory holds the users it has room for; the log holds more. A user evicted from
// memory who comes back (a new event, or a request that reads their history) has their logged
// history read back: the last PerUser catalog events of theirs in the log replace what memory
// has of them.
//
// The log is ordered by time, not by user, so finding a user's records is a pass over the
// file. One background pass serves every user who asked while the previous one ran, and the
// next pass waits as long as the last one took, so read-backs cost at most half a core however
// many users return. Until their pass ends, a returning user is answered from what memory has
// (their newest events). The users' filter keeps passes for users who were never logged (most
// users a store has not seen are new, not evicted).
//
// Why not an index by user: the index would cost memory per logged user, beyond the memory
// bound, for users who may never return; a pass costs only time, and only when users return.

// maxWanted bounds the users waiting for a pass; a user left out is still marked partial and
// asks again on their next request.
const maxWanted = 4096

// readBacks is the pending set and the pass's hand-over to the writer.
type readBacks struct {
	mu     sync.Mutex
	wanted map[string]struct{}
	wake   chan struct{} // capacity 1
	done   chan struct{}
}

// want asks for user's history to be read back.
func (l *eventLog) want(user string) {
	if l.opt.Catalog == nil {
		return // memory keeps nothing: there is nothing to read back into
	}
	rb := &l.rb
	rb.mu.Lock()
	if _, ok := rb.wanted[user]; !ok && len(rb.wanted) < maxWanted {
		rb.wanted[user] = struct{}{}
	}
	rb.mu.Unlock()
	select {
	case rb.wake <- struct{}{}:
	default:
	}
}

func (l *eventLog) takeWanted() []string {
	rb := &l.rb
	rb.mu.Lock()
	defer rb.mu.Unlock()
	users := make([]string, 0, len(rb.wanted))
	for u := range rb.wanted {
		users = append(users, u)
	}
	clear(rb.wanted)
	return users
}

// snapshot is a consistent view of the log for a pass: its own descriptor of the live file
// (which a compaction may rename away: the pass goes on reading the old one), the size then,
// and the file's generation.
type snapshot struct {
	f    *os.File
	size int64
	gen  uint64
	err  error
}

// readBack is a pass's result: of each wanted user, the last PerUser catalog events in the
// first size bytes of generation gen.
type readBack struct {
	found map[string][]Event
	size  int64
	gen   uint64
}

// readBackLoop runs the passes until the log closes.
func (l *eventLog) readBackLoop() {
	defer close(l.rb.done)
	for {
		select {
		case <-l.rb.wake:
		case <-l.closing:
			return
		}
		users := l.takeWanted()
		if len(users) == 0 {
			continue
		}
		c := make(chan snapshot, 1)
		select {
		case l.snapshots <- c:
		case <-l.closing:
			return
		}
		snap := <-c
		if snap.err != nil {
			l.opt.Logger.Error("history: read-back: opening the log", "err", snap.err)
			continue // the users stay partial and ask again
		}
		start := time.Now()
		found := make(map[string][]Event, len(users))
		for _, u := range users {
			found[u] = nil
		}
		hdr := int64(len(logHeader))
		err := l.collect(io.NewSectionReader(snap.f, hdr, snap.size-hdr), hdr, found)
		snap.f.Close()
		if err != nil {
			l.opt.Logger.Error("history: read-back pass", "err", err)
			continue
		}
		select {
		case l.readBacks <- readBack{found: found, size: snap.size, gen: snap.gen}:
		case <-l.closing:
			return
		}
		select {
		case <-time.After(time.Since(start)):
		case <-l.closing:
			return
		}
	}
}

// collect appends to found[user] the catalog events in r (starting at file offset off) of each
// user found holds, keeping the last PerUser. Damage is skipped, as replay does.
func (l *eventLog) collect(r io.Reader, off int64, found map[string][]Event) error {
	per := l.opt.PerUser
	sc := newScanner(r, off, nil)
	for sc.next() {
		evs, ok := found[string(recordUser(sc.rec))]
		if !ok {
			continue
		}
		e := decodeRecord(sc.rec)
		if _, ok := l.opt.Catalog.Lookup(e.Item); !ok {
			continue
		}
		evs = append(evs, e)
		if len(evs) >= 2*per {
			evs = append(evs[:0], evs[len(evs)-per:]...)
		}
		found[e.User] = evs
	}
	for u, evs := range found {
		if len(evs) > per {
			found[u] = evs[len(evs)-per:]
		}
	}
	return sc.err
}

// finishReadBack runs on the writer: it adds what was appended since the pass's snapshot and
// installs the histories. After a file swap the pass's offsets mean nothing: it is redone.
func (l *eventLog) finishReadBack(rb readBack, size int64) {
	if rb.gen != l.gen {
		for u := range rb.found {
			l.want(u)
		}
		return
	}
	if size > rb.size {
		if err := l.collect(io.NewSectionReader(l.f, rb.size, size-rb.size), rb.size, rb.found); err != nil {
			l.opt.Logger.Error("history: read-back of the newest records", "err", err)
			return
		}
	}
	for u, evs := range rb.found {
		l.mem.install(u, evs)
	}
}
