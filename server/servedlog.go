package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// ServedLogConfig configures the log of served lists: one JSON line per answered recommendation
// (request id, user, time, the items with positions, scores and sources, and feature values when
// the request asked for explain or Features is set), the raw material for ranker training data
// and replay. Writing is asynchronous through a bounded queue: when the disk falls behind, lines
// are dropped and counted (cascade_served_log_dropped_total) rather than slowing requests.
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

// servedEntry is one line of the served log.
type servedEntry struct {
	RequestID    string       `json:"request_id"`
	Time         time.Time    `json:"time"`       // when it was served
	QueryTime    int64        `json:"query_time"` // the request's time as the models saw it (Unix s)
	User         string       `json:"user_id"`
	UserKnown    bool         `json:"user_known"`
	ModelVersion string       `json:"model_version"`
	HistoryLen   int          `json:"history_len"`
	Fallback     bool         `json:"fallback,omitempty"`
	Degraded     bool         `json:"degraded,omitempty"`
	Stages       []stageJSON  `json:"stages"`
	FeatureNames []string     `json:"feature_names,omitempty"`
	Items        []servedItem `json:"items"`
}

type servedItem struct {
	ItemID   string         `json:"item_id"`
	Position int            `json:"position"`
	Score    jsonFloat      `json:"score"`
	Sources  map[string]int `json:"sources,omitempty"`
	Features []jsonFloat    `json:"features,omitempty"`
}

// servedLog writes entries on its own goroutine.
type servedLog struct {
	cfg    ServedLogConfig
	log    *slog.Logger
	ch     chan *servedEntry
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool

	written, dropped, errors atomic.Int64

	f    *os.File
	w    *bufio.Writer
	size int64
}

func openServedLog(cfg ServedLogConfig, log *slog.Logger) (*servedLog, error) {
	if cfg.Path == "" {
		return nil, nil
	}
	l := &servedLog{cfg: cfg, log: log, ch: make(chan *servedEntry, cfg.Buffer), stop: make(chan struct{}), done: make(chan struct{})}
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
func (l *servedLog) add(e *servedEntry) {
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

func (l *servedLog) open() error {
	f, err := os.OpenFile(l.cfg.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("served log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("served log: %w", err)
	}
	l.f, l.size = f, st.Size()
	if l.w == nil {
		l.w = bufio.NewWriterSize(f, 256<<10)
	} else {
		l.w.Reset(f)
	}
	return nil
}

func (l *servedLog) run() {
	defer close(l.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var line []byte
	write := func(e *servedEntry) {
		var err error
		line, err = appendJSONLine(line[:0], e)
		if err == nil {
			_, err = l.w.Write(line)
		}
		if err != nil {
			if l.errors.Add(1) == 1 {
				l.log.Error("served log: write failed (further failures are only counted)", "path", l.cfg.Path, "err", err)
			}
			return
		}
		l.written.Add(1)
		l.size += int64(len(line))
		if l.size >= l.cfg.MaxBytes {
			if err := l.rotate(); err != nil {
				l.errors.Add(1)
				l.log.Error("served log: rotation failed", "path", l.cfg.Path, "err", err)
			}
		}
	}
	for {
		select {
		case e := <-l.ch:
			write(e)
		case <-tick.C:
			l.w.Flush()
		case <-l.stop:
			for {
				select {
				case e := <-l.ch:
					write(e)
					continue
				default:
				}
				break
			}
			if err := l.w.Flush(); err != nil {
				l.log.Error("served log: flush", "err", err)
			}
			l.f.Close()
			return
		}
	}
}

func appendJSONLine(dst []byte, e *servedEntry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return dst, err
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}

func (l *servedLog) rotate() error {
	if err := l.w.Flush(); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return err
	}
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
