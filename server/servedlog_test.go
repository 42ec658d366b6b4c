package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/server/history"

	"github.com/cascade-rec/cascade/servedlog"
)

// fullDisk is a file on a disk with room for so many more bytes: a write past it writes what
// fits and fails with ENOSPC, as a full disk does.
type fullDisk struct {
	*os.File
	room *atomic.Int64
}

func (f fullDisk) Write(b []byte) (int, error) {
	n, err := f.File.Write(b[:min(int64(len(b)), max(0, f.room.Load()))])
	f.room.Add(-int64(n))
	if err == nil && n < len(b) {
		err = &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return n, err
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Item 2: after a write error (the disk full) the served log recovers when space is freed:
// the lines it held are written, what it could not hold is dropped and counted exactly, the
// file has only whole lines, and written_total is the file's line count.
func TestServedLogRecoversFromAFullDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "served.jsonl")
	var room atomic.Int64
	room.Store(3000)
	cfg := ServedLogConfig{Path: path, Buffer: 50}
	if err := cfg.defaults(); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	l, err := newServedLog(cfg, slog.New(slog.NewTextHandler(&logs, nil)), 10*time.Millisecond, func(p string) (logFile, error) {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
		return fullDisk{f, &room}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	add := func(k int) {
		for range k {
			l.add(&servedlog.Entry{RequestID: fmt.Sprintf("req-%04d", n), User: strings.Repeat("u", 100)})
			n++
		}
	}
	add(20) // about 4000 bytes: the disk fills in the middle of a line
	waitFor(t, "the write error", func() bool { return l.writeErrors.Load() > 0 })
	add(200) // the queue holds 50, the rest is dropped
	if got := l.dropped.Load(); got != 150 {
		t.Fatalf("dropped %d while the disk was full, want 150", got)
	}
	time.Sleep(50 * time.Millisecond) // retries fail meanwhile
	room.Store(1 << 30)               // space freed
	waitFor(t, "recovery", func() bool { return l.written.Load() == 70 })
	add(30)
	l.close()

	m := newMetrics(newStoreCollector(memStore(t)), l)
	got := map[string]float64{}
	mfs, _ := m.reg.Gather()
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "cascade_served_log_") {
			got[mf.GetName()] = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	lines := readLines(t, path)
	if got["cascade_served_log_written_total"] != 100 || got["cascade_served_log_dropped_total"] != 150 ||
		got["cascade_served_log_write_errors_total"] < 2 || len(lines) != 100 {
		t.Fatalf("metrics %v, %d lines in the file", got, len(lines))
	}
	// Every line whole and in order, none twice: the first 20, the 50 the queue held, the 30.
	for i, line := range lines {
		var e servedlog.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		want := i
		if i >= 70 {
			want = i + 150
		}
		if e.RequestID != fmt.Sprintf("req-%04d", want) {
			t.Fatalf("line %d is %s", i, e.RequestID)
		}
	}
	if c := strings.Count(logs.String(), "failed;"); c != 1 {
		t.Errorf("the failure was logged %d times, want once:\n%s", c, logs.String())
	}
}

// A crash can leave a partial last line; opening the log cuts it, so every line is JSON.
func TestServedLogCutsAPartialLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "served.jsonl")
	os.WriteFile(path, []byte("{\"request_id\":\"a\"}\n{\"request_id\":\"b\"}\n{\"requ"), 0o644)
	l, err := openServedLog(ServedLogConfig{Path: path, MaxBytes: 1 << 20, Keep: 1, Buffer: 4}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	l.add(&servedlog.Entry{RequestID: "c"})
	l.close()
	lines := readLines(t, path)
	if len(lines) != 3 || !strings.Contains(lines[2], `"request_id":"c"`) || l.written.Load() != 1 {
		t.Fatalf("%q", lines)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func memStore(t *testing.T) *history.Store {
	t.Helper()
	s, err := history.Open(history.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
