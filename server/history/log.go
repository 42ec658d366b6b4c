package history

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("history: store closed")

// ErrLogFull is returned by Append when the log cannot make room within MaxLogBytes (its
// compaction failed, or one batch exceeds a quarter of the bound).
var ErrLogFull = errors.New("history: event log full")

// memory is what the log drives in the store: it applies events in log order, and installs
// histories read back from the log.
type memory interface {
	apply([]Event) int
	install(user string, evs []Event)
}

// eventLog owns the file. One goroutine (run) does every write, fsync and file swap, so that
// concurrent appends need no lock on the file and a batch is applied to memory in log order.
type eventLog struct {
	path  string
	opt   Options
	mem   memory
	seed  maphash.Seed
	f     *os.File // only run touches it after openLog
	gen   uint64   // bumped by each file swap; only run touches it
	size  atomic.Int64
	users atomic.Pointer[userFilter]

	filterBytes int64
	batchCap    int // bytes one group commit collects

	appends   chan *appendReq
	flushes   chan chan error
	compacts  chan chan error
	snapshots chan chan snapshot
	readBacks chan readBack
	rb        readBacks
	closing   chan struct{}
	done      chan struct{}
	closeErr  error

	damagedRuns, damagedBytes, droppedUsers, droppedEvents atomic.Int64
}

type appendReq struct {
	evs     []Event
	buf     []byte
	unknown int
	err     chan error
}

// newLog makes the log of path; open then replays it into mem (which may call the log's
// seen and want while it does) and starts the writer.
func newLog(path string, opt Options, mem memory, filterBytes int64) *eventLog {
	l := &eventLog{
		path: path, opt: opt, mem: mem, seed: maphash.MakeSeed(), filterBytes: filterBytes,
		batchCap:  int(min(maxBatchBytes, opt.MaxLogBytes/4)),
		appends:   make(chan *appendReq),
		flushes:   make(chan chan error),
		compacts:  make(chan chan error),
		snapshots: make(chan chan snapshot),
		readBacks: make(chan readBack),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
		rb:        readBacks{wanted: map[string]struct{}{}, wake: make(chan struct{}, 1), done: make(chan struct{})},
	}
	l.users.Store(newUserFilter(l.seed, filterBytes))
	return l
}

func (l *eventLog) open() (recovery, error) {
	f, size, rep, err := recoverLog(l.path, l.opt, l.mem.apply)
	if err != nil {
		return rep, err
	}
	l.f = f
	l.damagedRuns.Store(rep.regions)
	l.damagedBytes.Store(rep.bytes)
	l.size.Store(size)
	go l.run(size)
	go l.readBackLoop()
	return rep, nil
}

// seen records that user has records in the log and reports whether that may have been true
// before (see userFilter).
func (l *eventLog) seen(user string) bool { return l.users.Load().add(user) }

// logged reports whether user may have records in the log.
func (l *eventLog) logged(user string) bool { return l.users.Load().has(user) }

func (l *eventLog) append(ctx context.Context, evs []Event) (int, error) {
	var buf []byte
	for _, e := range evs {
		if len(e.User)+len(e.Item)+30 > maxPayload {
			return 0, fmt.Errorf("history: event IDs longer than %d bytes", maxPayload-30)
		}
		buf = appendRecord(buf, e)
	}
	if len(buf) > l.batchCap {
		return 0, fmt.Errorf("%w: a batch of %d bytes exceeds a quarter of the log bound (%d bytes)", ErrLogFull, len(buf), l.opt.MaxLogBytes)
	}
	req := &appendReq{evs: evs, buf: buf, err: make(chan error, 1)}
	select {
	case l.appends <- req:
	case <-l.done:
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// The writer answers every request it took; waiting for it even when ctx ends keeps "an
	// acknowledged event is durable" exact (the write is bounded by the disk, not the client).
	if err := <-req.err; err != nil {
		return 0, err
	}
	return req.unknown, nil
}

// request hands the writer goroutine a reply channel on ch, unless the log closes or ctx ends
// first; flush and compactNow differ only in how they wait for the reply.
func (l *eventLog) request(ctx context.Context, ch chan<- chan error) (chan error, error) {
	c := make(chan error, 1)
	select {
	case ch <- c:
		return c, nil
	case <-l.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *eventLog) flush(ctx context.Context) error {
	c, err := l.request(ctx, l.flushes)
	if err != nil {
		return err
	}
	return <-c
}

func (l *eventLog) compactNow(ctx context.Context) error {
	c, err := l.request(ctx, l.compacts)
	if err != nil {
		return err
	}
	select {
	case err := <-c:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *eventLog) close() error {
	close(l.closing)
	<-l.done
	<-l.rb.done
	return l.closeErr
}

// run is the writer: group commit, periodic fsync, the size bound, compaction and read-back
// hand-over, close.
func (l *eventLog) run(size int64) {
	defer close(l.done)
	var tick <-chan time.Time
	if l.opt.Sync == SyncInterval {
		t := time.NewTicker(l.opt.SyncInterval)
		defer t.Stop()
		tick = t.C
	}
	dirty := false
	compacted := size // size after the last compaction
	var compacting chan compaction
	var waiters []chan error
	var buf []byte
	startCompaction := func() {
		if compacting != nil {
			return
		}
		compacting = make(chan compaction, 1)
		end := size
		go func() {
			compacting <- compactPrefix(l.path, end, l.opt.MaxLogBytes/2, l.opt, l.seed, l.filterBytes)
		}()
	}
	finish := func(c compaction) {
		compacting = nil
		err := c.err
		if err == nil {
			var n int64
			n, err = l.swap(c, size)
			if err == nil {
				l.opt.Logger.Info("history: event log compacted", "path", l.path, "bytes_before", size, "bytes_after", n,
					"users_dropped_by_bound", c.droppedUsers, "events_dropped_by_bound", c.droppedEvents)
				size, compacted = n, n
				l.size.Store(n)
				dirty = false
			}
		}
		if err != nil {
			if c.tmp != "" {
				os.Remove(c.tmp)
			}
			l.opt.Logger.Error("history: compaction failed", "path", l.path, "err", err)
			compacted = size // do not retry at once
		}
		for _, w := range waiters {
			w <- err
		}
		waiters = nil
	}
	for {
		select {
		case req := <-l.appends:
			batch := []*appendReq{req}
			buf = append(buf[:0], req.buf...)
		more:
			for len(buf) < l.batchCap {
				select {
				case r := <-l.appends:
					batch = append(batch, r)
					buf = append(buf, r.buf...)
				default:
					break more
				}
			}
			// The bound: make room before writing past it. Appends wait for the compaction
			// (back-pressure) rather than the file outgrowing its bound; a compaction that
			// started before this batch leaves what came after it, hence a second try.
			for try := 0; try < 2 && size+int64(len(buf)) > l.opt.MaxLogBytes; try++ {
				startCompaction()
				finish(<-compacting)
			}
			var err error
			if size+int64(len(buf)) > l.opt.MaxLogBytes {
				err = fmt.Errorf("%w: %d bytes and a batch of %d exceed the bound of %d", ErrLogFull, size, len(buf), l.opt.MaxLogBytes)
			} else if err = l.write(buf, size); err == nil {
				size += int64(len(buf))
				l.size.Store(size)
				dirty = true
				if l.opt.Sync == SyncAlways {
					if err = l.f.Sync(); err == nil {
						dirty = false
					} else {
						err = fmt.Errorf("history: fsync: %w", err)
					}
				}
			}
			for _, r := range batch {
				if err == nil {
					r.unknown = l.mem.apply(r.evs)
				}
				r.err <- err
			}
			if size > l.opt.CompactBytes && size > 2*compacted || size > l.opt.MaxLogBytes/4*3 && size > compacted {
				startCompaction()
			}
		case <-tick:
			if dirty {
				if err := l.f.Sync(); err != nil {
					l.opt.Logger.Error("history: fsync", "err", err)
				} else {
					dirty = false
				}
			}
		case c := <-l.flushes:
			err := l.f.Sync()
			if err == nil {
				dirty = false
			}
			c <- err
		case c := <-l.compacts:
			waiters = append(waiters, c)
			startCompaction()
		case c := <-compacting:
			finish(c)
		case c := <-l.snapshots:
			f, err := os.Open(l.path)
			c <- snapshot{f: f, size: size, gen: l.gen, err: err}
		case rb := <-l.readBacks:
			l.finishReadBack(rb, size)
		case <-l.closing:
			if compacting != nil {
				finish(<-compacting)
			}
			err := l.f.Sync()
			if cerr := l.f.Close(); err == nil {
				err = cerr
			}
			l.closeErr = err
			return
		}
	}
}

// write appends buf at offset size; on failure it cuts the file back so that no partial batch
// stays in the middle of the log.
func (l *eventLog) write(buf []byte, size int64) error {
	if _, err := l.f.WriteAt(buf, size); err != nil {
		if terr := l.f.Truncate(size); terr != nil {
			return fmt.Errorf("history: write: %w (and truncating back: %v)", err, terr)
		}
		return fmt.Errorf("history: write: %w", err)
	}
	return nil
}

// swap completes a compaction: the records appended to the live file after the compacted prefix
// (bytes [c.end, size)) are copied to the compacted file, which then replaces the live file.
// When the compaction met damage, the live file is kept aside first. It returns the new size.
func (l *eventLog) swap(c compaction, size int64) (int64, error) {
	t, err := os.OpenFile(c.tmp, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	n, err := t.Seek(0, io.SeekEnd)
	if err == nil && size > c.end {
		w := bufio.NewWriterSize(t, 1<<20)
		sc := newScanner(io.NewSectionReader(l.f, c.end, size-c.end), c.end, func(d damage) { c.damage = append(c.damage, d) })
		for sc.next() && err == nil {
			_, err = w.Write(sc.rec)
			n += int64(len(sc.rec))
			c.users.addBytes(recordUser(sc.rec))
		}
		if sc.tail != nil {
			c.damage = append(c.damage, *sc.tail)
		}
		if err == nil {
			err = sc.err
		}
		if err == nil {
			err = w.Flush()
		}
	}
	if err == nil {
		err = t.Sync()
	}
	if err == nil && len(c.damage) > 0 {
		var kept string
		if kept, err = keepAside(l.path); err == nil {
			var bytes int64
			for _, d := range c.damage {
				bytes += d.n
			}
			l.damagedRuns.Add(int64(len(c.damage)))
			l.damagedBytes.Add(bytes)
			l.opt.Logger.Error("history: compaction met damaged records in the event log; every valid record is kept, the damaged file is kept aside for inspection",
				"path", l.path, "kept_aside", kept, "damaged_runs", len(c.damage), "damaged_bytes", bytes, "first_offset", c.damage[0].off, "reason", c.damage[0].reason)
		}
	}
	if err == nil {
		err = os.Rename(c.tmp, l.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(l.path))
	}
	if err != nil {
		t.Close()
		return 0, err
	}
	l.f.Close()
	l.f = t
	l.gen++
	l.users.Store(c.users)
	l.droppedUsers.Add(c.droppedUsers)
	l.droppedEvents.Add(c.droppedEvents)
	return n, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("history: fsync %s: %w", dir, err)
	}
	return nil
}
