package history

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// recovery describes what opening the log found.
type recovery struct {
	events  int    // valid records replayed
	regions int64  // damaged runs skipped (each held at least one record, or the header)
	bytes   int64  // bytes in them and in a damaged tail
	kept    string // the damaged file, kept aside ("" when none was)
}

// maxDamageLogged bounds the warnings of one open; the rest are only counted.
const maxDamageLogged = 10

// otherVersion matches the header of another version of the log format.
var otherVersion = regexp.MustCompile(`^CASCADE-EVENTS-[0-9]+\n$`)

// recoverLog opens (or creates) the log at path, replays every valid record through apply,
// and leaves the file ready for appends: it returns the file and its size.
//
// What it does with what it finds:
//   - a partial record at the end (a crash during a write, nothing acknowledged in it): cut;
//   - any other damage — a record that fails its checks in the middle, a corrupt length, a
//     damaged header, garbage at the end: the records around it are kept (the scanner
//     resynchronises on the next valid record), the damage is counted and logged, the file as
//     found is kept aside (events.log.damaged-TIME) and a clean log with every valid record
//     replaces it. A file is never cut past a valid record.
//   - a damaged header with valid records after it is such damage: refusing to start would
//     keep the events but stop the service, starting empty would lose them; rewriting keeps
//     both the events and, aside, the original. A file with no valid record and a foreign
//     header is not a log (a wrong --state path): it is refused and left untouched, and so is
//     the header of another format version.
func recoverLog(path string, opt Options, apply func([]Event) int) (*os.File, int64, recovery, error) {
	var rep recovery
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, 0, rep, fmt.Errorf("history: %w", err)
	}
	fail := func(err error) (*os.File, int64, recovery, error) {
		f.Close()
		return nil, 0, rep, err
	}
	st, err := f.Stat()
	if err != nil {
		return fail(fmt.Errorf("history: %w", err))
	}
	size := st.Size()
	hdr := make([]byte, len(logHeader))
	k, _ := f.ReadAt(hdr, 0)
	hdr = hdr[:k]
	start := int64(len(logHeader))
	switch {
	case string(hdr) == logHeader:
	case size < int64(len(logHeader)) && string(hdr) == logHeader[:k]:
		if size > 0 {
			// Crashed while creating the file: nothing was ever acknowledged.
			opt.Logger.Warn("history: event log has a partial header; starting empty", "path", path)
		}
		if err := writeHeader(f, path); err != nil {
			return fail(err)
		}
		return f, int64(len(logHeader)), rep, nil
	case otherVersion.Match(hdr):
		return fail(fmt.Errorf("history: %s was written by another version of Cascade (header %q); this one reads %q", path, hdr, logHeader))
	default:
		start = 0 // the header is damaged: look for records from the first byte
	}

	onDamage := func(d damage) {
		rep.regions++
		rep.bytes += d.n
		if rep.regions <= maxDamageLogged {
			opt.Logger.Warn("history: skipping a damaged run in the event log; the records after it are kept",
				"path", path, "offset", d.off, "bytes", d.n, "reason", d.reason)
		}
	}
	sc := newScanner(io.NewSectionReader(f, start, size-start), start, onDamage)
	end := start
	batch := make([]Event, 0, 4096)
	for sc.next() {
		batch = append(batch, decodeRecord(sc.rec))
		if len(batch) == cap(batch) {
			apply(batch)
			batch = batch[:0]
		}
		rep.events++
		end = sc.off
	}
	apply(batch)
	if sc.err != nil {
		return fail(fmt.Errorf("history: reading %s: %w", path, sc.err))
	}
	if start == 0 && rep.events == 0 {
		return fail(fmt.Errorf("history: %s is not a Cascade event log (header %q)", path, hdr))
	}
	if start == int64(len(logHeader)) && rep.regions == 0 && (sc.tail == nil || sc.tail.torn) {
		if sc.tail != nil {
			opt.Logger.Warn("history: dropping a torn record at the end of the event log (a crash during a write); every earlier event is kept",
				"path", path, "offset", sc.tail.off, "bytes_dropped", sc.tail.n, "events_kept", rep.events)
			if err := f.Truncate(end); err != nil {
				return fail(fmt.Errorf("history: cutting the torn tail of %s: %w", path, err))
			}
			if err := f.Sync(); err != nil {
				return fail(fmt.Errorf("history: %w", err))
			}
		}
		return f, end, rep, nil
	}

	if sc.tail != nil {
		rep.regions++
		rep.bytes += sc.tail.n
	}
	if rep.regions > maxDamageLogged {
		opt.Logger.Warn("history: more damaged runs in the event log (not logged one by one)", "path", path, "runs", rep.regions-maxDamageLogged)
	}
	clean, n, kept, err := rewriteClean(f, path, start, size)
	if err != nil {
		return fail(fmt.Errorf("history: repairing %s: %w", path, err))
	}
	f.Close()
	rep.kept = kept
	opt.Logger.Error("history: the event log was damaged; every valid record is kept, the damaged file is kept aside for inspection",
		"path", path, "kept_aside", kept, "header_damaged", start == 0, "damaged_runs", rep.regions,
		"damaged_bytes", rep.bytes, "events_kept", rep.events)
	return clean, n, rep, nil
}

func writeHeader(f *os.File, path string) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if _, err := f.WriteAt([]byte(logHeader), 0); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// rewriteClean writes every valid record of f (from start to size) to a new log that then
// replaces path, keeping the damaged file aside first. It returns the new file and its size.
// A crash at any point leaves either the damaged file or the clean one at path.
func rewriteClean(f *os.File, path string, start, size int64) (*os.File, int64, string, error) {
	tmp := path + ".repair"
	out, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, 0, "", err
	}
	fail := func(err error) (*os.File, int64, string, error) {
		out.Close()
		os.Remove(tmp)
		return nil, 0, "", err
	}
	w := bufio.NewWriterSize(out, 1<<20)
	w.WriteString(logHeader)
	n := int64(len(logHeader))
	sc := newScanner(io.NewSectionReader(f, start, size-start), start, nil)
	for sc.next() {
		w.Write(sc.rec)
		n += int64(len(sc.rec))
	}
	if sc.err != nil {
		return fail(sc.err)
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if err := out.Sync(); err != nil {
		return fail(err)
	}
	kept, err := keepAside(path)
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fail(err)
	}
	return out, n, kept, nil
}

// keepAside gives the file at path a second name, path.damaged-TIME, for inspection: a hard
// link (instant, no space) when the file system has them, else a copy. The caller then
// replaces path, so the kept name holds the file as it was.
func keepAside(path string) (string, error) {
	kept := path + ".damaged-" + time.Now().UTC().Format("20060102T150405.000000000Z")
	if err := os.Link(path, kept); err == nil {
		return kept, nil
	}
	src, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	dst, err := os.OpenFile(kept, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(dst, src)
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(kept)
		return "", fmt.Errorf("keeping the damaged log aside: %w", err)
	}
	return kept, nil
}
