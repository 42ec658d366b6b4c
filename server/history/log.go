package history

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// The log file: a header line, then records of
//
//	uint32 LE payload length | uint32 LE CRC-32C of the payload | payload
//
// with payload = uvarint len(user) | user | uvarint len(item) | item | varint time | float32 LE
// value (NaN: none). A record is
// written with one write(2) together with the rest of its batch; a crash can leave a partial
// record only at the end, which Open drops.
const (
	logHeader     = "CASCADE-EVENTS-1\n"
	recordHeader  = 8
	maxPayload    = 1 << 16
	maxBatchBytes = 4 << 20 // one group commit writes at most this much
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("history: store closed")

// eventLog owns the file. One goroutine (run) does every write, fsync and file swap, so that
// concurrent appends need no lock on the file and a batch is applied to memory in log order.
type eventLog struct {
	path  string
	opt   Options
	apply func([]Event) int
	f     *os.File // only run touches it after openLog
	size  atomic.Int64

	appends  chan *appendReq
	flushes  chan chan error
	compacts chan chan error
	closing  chan struct{}
	done     chan struct{}
	closeErr error
}

type appendReq struct {
	evs     []Event
	buf     []byte
	unknown int
	err     chan error
}

// openLog opens or creates the log at path, replays it through apply and starts the writer.
func openLog(path string, opt Options, apply func([]Event) int) (*eventLog, int, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("history: %w", err)
	}
	n, good, err := replay(f, path, opt, apply)
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("history: %w", err)
	}
	if good == 0 {
		if _, err := f.WriteString(logHeader); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("history: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("history: %w", err)
		}
		good = int64(len(logHeader))
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, 0, err
		}
	}
	l := &eventLog{
		path: path, opt: opt, apply: apply, f: f,
		appends:  make(chan *appendReq),
		flushes:  make(chan chan error),
		compacts: make(chan chan error),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	l.size.Store(good)
	go l.run(good)
	return l, n, nil
}

// replay applies every intact record of f and returns the count and the offset after the last
// intact one, truncating a torn or damaged tail (with a warning).
func replay(f *os.File, path string, opt Options, apply func([]Event) int) (int, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("history: %w", err)
	}
	if st.Size() == 0 {
		return 0, 0, nil
	}
	r := bufio.NewReaderSize(f, 1<<20)
	hdr := make([]byte, len(logHeader))
	if _, err := io.ReadFull(r, hdr); err != nil || string(hdr) != logHeader {
		if st.Size() < int64(len(logHeader)) && string(hdr[:st.Size()]) == logHeader[:st.Size()] {
			// Crashed while creating the file: nothing was ever acknowledged.
			opt.Logger.Warn("history: event log has a partial header; starting empty", "path", path)
			return 0, 0, f.Truncate(0)
		}
		return 0, 0, fmt.Errorf("history: %s is not a Cascade event log (header %q)", path, hdr)
	}
	off := int64(len(logHeader))
	n := 0
	batch := make([]Event, 0, 4096)
	err = scan(r, func(ev Event, rec []byte) {
		batch = append(batch, ev)
		if len(batch) == cap(batch) {
			apply(batch)
			batch = batch[:0]
		}
		n++
		off += int64(len(rec))
	})
	apply(batch)
	if err != nil {
		opt.Logger.Warn("history: dropping a torn or damaged record at the end of the event log; earlier events are kept",
			"path", path, "offset", off, "bytes_dropped", st.Size()-off, "events_kept", n, "reason", err)
		if err := f.Truncate(off); err != nil {
			return 0, 0, fmt.Errorf("history: truncating the torn tail of %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return 0, 0, fmt.Errorf("history: %w", err)
		}
	}
	return n, off, nil
}

// scan reads records until EOF, calling fn with each event and its raw record bytes (valid until
// fn returns). It returns nil at a clean EOF and an error describing the first bad record.
func scan(r *bufio.Reader, fn func(Event, []byte)) error {
	var rec []byte
	for {
		var h [recordHeader]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("short record header: %w", err)
		}
		n := binary.LittleEndian.Uint32(h[:4])
		if n == 0 || n > maxPayload {
			return fmt.Errorf("record length %d out of range", n)
		}
		if cap(rec) < recordHeader+int(n) {
			rec = make([]byte, recordHeader+int(n))
		}
		rec = rec[:recordHeader+int(n)]
		copy(rec, h[:])
		if _, err := io.ReadFull(r, rec[recordHeader:]); err != nil {
			return fmt.Errorf("short record: %w", err)
		}
		payload := rec[recordHeader:]
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
			return errors.New("checksum mismatch")
		}
		ev, err := decodePayload(payload)
		if err != nil {
			return err
		}
		fn(ev, rec)
	}
}

func appendRecord(buf []byte, e Event) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, recordHeader)...)
	buf = binary.AppendUvarint(buf, uint64(len(e.User)))
	buf = append(buf, e.User...)
	buf = binary.AppendUvarint(buf, uint64(len(e.Item)))
	buf = append(buf, e.Item...)
	buf = binary.AppendVarint(buf, e.Time)
	buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(e.Value))
	payload := buf[start+recordHeader:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(payload, crcTable))
	return buf
}

func decodePayload(p []byte) (Event, error) {
	var e Event
	str := func() (string, bool) {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return "", false
		}
		s := string(p[k : k+int(n)])
		p = p[k+int(n):]
		return s, true
	}
	var ok bool
	if e.User, ok = str(); !ok {
		return e, errors.New("bad user field")
	}
	if e.Item, ok = str(); !ok {
		return e, errors.New("bad item field")
	}
	t, k := binary.Varint(p)
	if k <= 0 || len(p)-k != 4 {
		return e, errors.New("bad time or value field")
	}
	e.Time = t
	e.Value = math.Float32frombits(binary.LittleEndian.Uint32(p[k:]))
	return e, nil
}

func (l *eventLog) append(ctx context.Context, evs []Event) (int, error) {
	var buf []byte
	for _, e := range evs {
		if len(e.User)+len(e.Item)+30 > maxPayload {
			return 0, fmt.Errorf("history: event IDs longer than %d bytes", maxPayload-30)
		}
		buf = appendRecord(buf, e)
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

func (l *eventLog) flush(ctx context.Context) error {
	c := make(chan error, 1)
	select {
	case l.flushes <- c:
	case <-l.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-c
}

func (l *eventLog) compactNow(ctx context.Context) error {
	c := make(chan error, 1)
	select {
	case l.compacts <- c:
	case <-l.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
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
	return l.closeErr
}

type compactResult struct {
	tmp string
	end int64 // the prefix of the live file the compacted file replaces
	err error
}

// run is the writer: group commit, periodic fsync, compaction hand-over, close.
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
	var compacting chan compactResult
	var waiters []chan error
	var buf []byte
	startCompaction := func() {
		if compacting != nil {
			return
		}
		compacting = make(chan compactResult, 1)
		end := size
		go func() {
			tmp, err := compactPrefix(l.path, end, l.opt.PerUser, l.opt.Catalog)
			compacting <- compactResult{tmp: tmp, end: end, err: err}
		}()
	}
	finish := func(res compactResult) {
		compacting = nil
		err := res.err
		if err == nil {
			var n int64
			n, err = l.swap(res.tmp, res.end, size)
			if err == nil {
				l.opt.Logger.Info("history: event log compacted", "path", l.path, "bytes_before", size, "bytes_after", n)
				size, compacted = n, n
				l.size.Store(n)
				dirty = false
			}
		}
		if err != nil {
			os.Remove(res.tmp)
			l.opt.Logger.Error("history: compaction failed; the log keeps growing", "path", l.path, "err", err)
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
			for len(buf) < maxBatchBytes {
				select {
				case r := <-l.appends:
					batch = append(batch, r)
					buf = append(buf, r.buf...)
				default:
					break more
				}
			}
			err := l.write(buf, size)
			if err == nil {
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
					r.unknown = l.apply(r.evs)
				}
				r.err <- err
			}
			if size > l.opt.CompactBytes && size > 2*compacted {
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
		case res := <-compacting:
			finish(res)
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
// (bytes [end, size)) are copied to tmp, which then replaces the live file. It returns the new
// size.
func (l *eventLog) swap(tmp string, end, size int64) (int64, error) {
	t, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	n, err := t.Seek(0, io.SeekEnd)
	if err == nil && size > end {
		var k int64
		k, err = io.Copy(t, io.NewSectionReader(l.f, end, size-end))
		n += k
	}
	if err == nil {
		err = t.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, l.path)
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
	return n, nil
}

// compactPrefix writes path+".compact" holding, of the records in the first end bytes of path,
// each user's last perUser events with catalog items (what memory holds, so that a restart
// restores the same histories) and last perUser events with other items, in their original
// order. Users are told apart by a 64-bit hash, which keeps the count table small (a collision
// only trims two users together).
func compactPrefix(path string, end int64, perUser int, cat Catalog) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	seed := maphash.MakeSeed()
	key := func(e Event) uint64 {
		h := maphash.String(seed, e.User) &^ 1
		if cat != nil {
			if _, ok := cat.Lookup(e.Item); ok {
				h |= 1
			}
		}
		return h
	}
	section := func() (*bufio.Reader, error) {
		r := bufio.NewReaderSize(io.NewSectionReader(f, 0, end), 1<<20)
		if _, err := r.Discard(len(logHeader)); err != nil {
			return nil, err
		}
		return r, nil
	}
	r, err := section()
	if err != nil {
		return "", err
	}
	count := map[uint64]int32{}
	if err := scan(r, func(e Event, _ []byte) { count[key(e)]++ }); err != nil {
		return "", fmt.Errorf("history: compaction read: %w", err)
	}
	tmp := path + ".compact"
	out, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	w.WriteString(logHeader)
	if r, err = section(); err != nil {
		out.Close()
		return "", err
	}
	seen := make(map[uint64]int32, len(count))
	var werr error
	err = scan(r, func(e Event, rec []byte) {
		h := key(e)
		seen[h]++
		if count[h]-seen[h] < int32(perUser) && werr == nil {
			_, werr = w.Write(rec)
		}
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("history: compaction: %w", err)
	}
	return tmp, nil
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
