package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cascade-rec/cascade/servedlog"
)

// ServedLogConfig configures the log of served lists: one JSON line per answered recommendation
// (request id, user, time, the items with positions, scores and sources, and feature values when
// the request asked for explain or Features is set), the raw material for ranker training data
// and replay. Writing is asynchronous through a bounded queue: when the disk falls behind or
// fails, lines are dropped and counted (cascade_served_log_dropped_total) rather than slowing
// requests, and writing resumes when the disk does (cascade_served_log_write_errors_total
// counts the failures).
type ServedLogConfig struct {
	// Path is the current file (e.g. served.jsonl); rotated files get a UTC timestamp before the
	// extension (served-20260102T150405.000Z.jsonl). Empty disables the log.
	Path string
	// MaxBytes rotates the file beyond this size (default 64 MiB); Keep rotated files are kept
	// (default 10; older ones are deleted).
	MaxBytes int64
	Keep     int
	// Buffer is the queue length in lines (default 4096).
	Buffer int
	// Features logs every served item's feature values (the log_features option); it costs the
	// explain bookkeeping on every request.
	Features bool
}

func (c *ServedLogConfig) defaults() error {
	if c.MaxBytes == 0 {
		c.MaxBytes = 64 << 20
	}
	if c.Keep == 0 {
		c.Keep = 10
	}
	if c.Buffer == 0 {
		c.Buffer = 4096
	}
	if c.MaxBytes < 1024 || c.Keep < 1 || c.Buffer < 1 {
		return errors.New("server: served log limits out of range")
	}
	return nil
}

// servedLog writes entries on its own goroutine. A write error (a full disk) does not stop it
// for good: the lines not written stay buffered, a partial line is cut back off the file, and
// every retry interval the file is reopened and the buffer written again. While it fails the
// queue is not read, so it fills and further lines are dropped and counted; once the disk
// recovers the queued lines are written.
type servedLog struct {
	cfg    ServedLogConfig
	log    *slog.Logger
	ch     chan *servedlog.Entry
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
	retry  time.Duration // the flush and retry interval

	// written counts the lines in the file (and in rotated ones); dropped the lines that never
	// will be (queue full, or still unwritten at close); writeErrors the failed writes,
	// reopens and rotations. Exact: every line handed to add is written or dropped once.
	written, dropped, writeErrors atomic.Int64

	openFile func(path string) (logFile, error)
	f        logFile
	size     int64  // bytes in the file
	buf      []byte // whole lines not yet written
	lines    int    // lines in buf
	failing  bool
}

// logFile is what the served log needs of its file (an *os.File; tests substitute one whose
// disk fills up).
type logFile interface {
	io.Writer
	io.ReaderAt
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Close() error
}

// servedFlushBytes: the buffer is written when it holds this much, and every retry interval.
const servedFlushBytes = 256 << 10

func openServedLog(cfg ServedLogConfig, log *slog.Logger) (*servedLog, error) {
	if cfg.Path == "" {
		return nil, nil
	}
	return newServedLog(cfg, log, time.Second, func(path string) (logFile, error) {
		return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	})
}

func newServedLog(cfg ServedLogConfig, log *slog.Logger, retry time.Duration, openFile func(string) (logFile, error)) (*servedLog, error) {
	l := &servedLog{
		cfg: cfg, log: log, ch: make(chan *servedlog.Entry, cfg.Buffer), stop: make(chan struct{}), done: make(chan struct{}),
		retry: retry, openFile: openFile,
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
		return nil, fmt.Errorf("served log: %w", err)
	}
	if err := l.open(); err != nil {
		return nil, err
	}
	go l.run()
	return l, nil
}

// add queues e, or drops it when the queue is full; it never blocks.
func (l *servedLog) add(e *servedlog.Entry) {
	if l == nil {
		return
	}
	if l.closed.Load() {
		l.dropped.Add(1)
		return
	}
	select {
	case l.ch <- e:
	default:
		l.dropped.Add(1)
	}
}

// open opens the file for appending and cuts a partial last line (left by a crash or a full
// disk), so that every line of the file is whole JSON.
func (l *servedLog) open() error {
	f, err := l.openFile(l.cfg.Path)
	if err != nil {
		return fmt.Errorf("served log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("served log: %w", err)
	}
	size := st.Size()
	if end, err := lastLineEnd(f, size); err != nil {
		f.Close()
		return fmt.Errorf("served log: %w", err)
	} else if end < size {
		if err := f.Truncate(end); err != nil {
			f.Close()
			return fmt.Errorf("served log: cutting a partial last line: %w", err)
		}
		l.log.Warn("served log: cut a partial last line", "path", l.cfg.Path, "bytes", size-end)
		size = end
	}
	l.f, l.size = f, size
	return nil
}

// lastLineEnd returns the offset after the last newline of the first size bytes of f.
func lastLineEnd(f io.ReaderAt, size int64) (int64, error) {
	var b [4096]byte
	for end := size; end > 0; {
		start := max(0, end-int64(len(b)))
		n, err := f.ReadAt(b[:end-start], start)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(b[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

func (l *servedLog) run() {
	defer close(l.done)
	tick := time.NewTicker(l.retry)
	defer tick.Stop()
	for {
		in := l.ch
		if l.failing {
			in = nil // let the queue hold what comes until the disk is back
		}
		select {
		case e := <-in:
			l.queue(e)
		case <-tick.C:
			if l.failing {
				l.recover()
			} else {
				l.flush()
			}
		case <-l.stop:
			if l.failing {
				l.recover()
			}
			for more := true; more; {
				select {
				case e := <-l.ch:
					l.queue(e)
				default:
					more = false
				}
			}
			l.flush()
			if l.lines > 0 {
				l.log.Error("served log: closing with lines the disk did not take", "path", l.cfg.Path, "lines_dropped", l.lines)
				l.dropped.Add(int64(l.lines))
			}
			if l.f != nil {
				l.f.Close()
			}
			return
		}
	}
}

// queue adds e's line to the buffer, writing the buffer when it is full.
func (l *servedLog) queue(e *servedlog.Entry) {
	n := len(l.buf)
	var err error
	if l.buf, err = appendJSONLine(l.buf, e); err != nil {
		l.buf = l.buf[:n]
		l.dropped.Add(1)
		l.log.Error("served log: encoding a line", "err", err)
		return
	}
	l.lines++
	if (len(l.buf) >= servedFlushBytes || l.size+int64(len(l.buf)) >= l.cfg.MaxBytes) && !l.failing {
		l.flush() // full, or the file reaches its size: rotate at once
	}
}

// flush writes the buffer. What the file took is counted as written; a partial line at the
// end is cut back off the file and stays in the buffer with the lines after it.
func (l *servedLog) flush() {
	if len(l.buf) == 0 || l.f == nil {
		return
	}
	n, err := l.f.Write(l.buf)
	whole := bytes.LastIndexByte(l.buf[:n], '\n') + 1
	done := bytes.Count(l.buf[:whole], []byte{'\n'})
	l.written.Add(int64(done))
	l.size += int64(whole)
	l.lines -= done
	l.buf = l.buf[:copy(l.buf, l.buf[whole:])]
	if err != nil {
		l.fail("write", err)
		if n > whole {
			if terr := l.f.Truncate(l.size); terr != nil {
				l.f.Close() // open cuts the partial line when it reopens the file
				l.f = nil
			}
		}
		return
	}
	if l.size >= l.cfg.MaxBytes {
		if err := l.rotate(); err != nil {
			l.fail("rotate", err)
		}
	}
}

func (l *servedLog) fail(op string, err error) {
	l.writeErrors.Add(1)
	if !l.failing {
		l.log.Error("served log: "+op+" failed; lines are kept and retried, and dropped (counted) once the queue is full",
			"path", l.cfg.Path, "err", err, "retry", l.retry)
	}
	l.failing = true
}

// recover reopens the file (it may have been removed or rotated away) and writes the buffer.
func (l *servedLog) recover() {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	if err := l.open(); err != nil {
		l.writeErrors.Add(1)
		return
	}
	errs := l.writeErrors.Load()
	l.flush()
	if l.writeErrors.Load() == errs {
		l.failing = false
		l.log.Info("served log: writing again", "path", l.cfg.Path, "write_errors", errs, "dropped", l.dropped.Load())
	}
}

func appendJSONLine(dst []byte, e *servedlog.Entry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return dst, err
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}

// rotate renames the full file with a timestamp, opens a new one and deletes the oldest beyond
// Keep. The buffer has been written.
func (l *servedLog) rotate() error {
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	ext := filepath.Ext(l.cfg.Path)
	stem := strings.TrimSuffix(l.cfg.Path, ext)
	name := stem + "-" + time.Now().UTC().Format("20060102T150405.000Z") + ext
	if err := os.Rename(l.cfg.Path, name); err != nil {
		return err
	}
	if err := l.open(); err != nil {
		return err
	}
	old, err := filepath.Glob(stem + "-*" + ext)
	if err != nil {
		return err
	}
	slices.Sort(old) // timestamps sort as strings
	for len(old) > l.cfg.Keep {
		if err := os.Remove(old[0]); err != nil {
			return err
		}
		old = old[1:]
	}
	return nil
}

// close writes what is queued and closes the file.
func (l *servedLog) close() {
	if l == nil || l.closed.Swap(true) {
		return
	}
	close(l.stop)
	<-l.done
}
