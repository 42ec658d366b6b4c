package history

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeOneEventPerUser writes n records, record k being user uK's only event, and returns the
// log's bytes and each record's offset.
func writeOneEventPerUser(t *testing.T, dir string, n int) ([]byte, []int64) {
	t.Helper()
	s := open(t, Options{Dir: dir, Sync: SyncNever})
	var batch []Event
	for k := range n {
		batch = append(batch, ev(fmt.Sprintf("u%04d", k), k%1000, 1000+k))
	}
	if _, err := s.Append(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	full, err := os.ReadFile(filepath.Join(dir, "events.log"))
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	sc := newScanner(bytes.NewReader(full[len(logHeader):]), int64(len(logHeader)), nil)
	for sc.next() {
		offs = append(offs, sc.at)
	}
	if len(offs) != n || sc.tail != nil {
		t.Fatalf("%d records, tail %v", len(offs), sc.tail)
	}
	return full, offs
}

// kept lists the k whose record survived, by each user's history.
func kept(s *Store, n int) []int {
	var out []int
	for k := range n {
		if len(s.History(fmt.Sprintf("u%04d", k), nil)) == 1 {
			out = append(out, k)
		}
	}
	return out
}

func allBut(n int, lost ...int) []int {
	var out []int
	for k := range n {
		if !slices.Contains(lost, k) {
			out = append(out, k)
		}
	}
	return out
}

// Item 1: damage anywhere but a torn tail loses only the damaged records: the reader
// resynchronises on the next valid one. The damage is counted and logged, the file as found is
// kept aside, and the repaired log takes appends.
func TestDamageLosesOnlyTheDamagedRecords(t *testing.T) {
	const n = 200
	mid := n / 2
	for _, tc := range []struct {
		name    string
		damage  func(b []byte, offs []int64) []byte
		lost    []int
		aside   bool // the damaged file is kept aside
		damaged bool // counted as damage (a torn tail is not)
	}{
		{"payload byte of the middle record", func(b []byte, o []int64) []byte { b[o[mid]+recordHeader+2] ^= 0x40; return b }, []int{mid}, true, true},
		{"checksum of the middle record", func(b []byte, o []int64) []byte { b[o[mid]+5] ^= 1; return b }, []int{mid}, true, true},
		{"length byte of the middle record, smaller", func(b []byte, o []int64) []byte { b[o[mid]] -= 3; return b }, []int{mid}, true, true},
		{"length byte of the middle record, larger", func(b []byte, o []int64) []byte { b[o[mid]] += 9; return b }, []int{mid}, true, true},
		{"length out of range", func(b []byte, o []int64) []byte { binary.LittleEndian.PutUint32(b[o[mid]:], 1<<31); return b }, []int{mid}, true, true},
		{"length past the end of the file", func(b []byte, o []int64) []byte { binary.LittleEndian.PutUint32(b[o[mid]:], 60000); return b }, []int{mid}, true, true},
		{"zeroed run over three records", func(b []byte, o []int64) []byte {
			clear(b[o[mid]+3 : o[mid+2]+5])
			return b
		}, []int{mid, mid + 1, mid + 2}, true, true},
		{"first record", func(b []byte, o []int64) []byte { b[o[0]+recordHeader] ^= 0xff; return b }, []int{0}, true, true},
		{"header byte", func(b []byte, o []int64) []byte { b[3] ^= 0x20; return b }, nil, true, true},
		{"whole header zeroed", func(b []byte, o []int64) []byte { clear(b[:len(logHeader)]); return b }, nil, true, true},
		{"checksum of the last record", func(b []byte, o []int64) []byte { b[o[n-1]+4] ^= 1; return b }, []int{n - 1}, true, true},
		{"garbage after the last record", func(b []byte, o []int64) []byte { return append(b, "\x00\x00garbage"...) }, nil, true, true},
		{"torn last record", func(b []byte, o []int64) []byte { return b[:len(b)-5] }, []int{n - 1}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			full, offs := writeOneEventPerUser(t, dir, n)
			path := filepath.Join(dir, "events.log")
			damaged := tc.damage(bytes.Clone(full), offs)
			os.WriteFile(path, damaged, 0o644)
			var logs bytes.Buffer
			s := open(t, Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			want := allBut(n, tc.lost...)
			if got := kept(s, n); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("kept %d records, want %d (all but %v)\n%s", len(got), len(want), tc.lost, logs.String())
			}
			st := s.Stats()
			reported := strings.Contains(logs.String(), "the event log was damaged")
			if tc.damaged != (st.DamagedRuns > 0) || tc.damaged != reported {
				t.Errorf("damage counted %d, reported %v\n%s", st.DamagedRuns, reported, logs.String())
			}
			aside, _ := filepath.Glob(path + ".damaged-*")
			if tc.aside != (len(aside) == 1) {
				t.Fatalf("kept aside: %v", aside)
			}
			if tc.aside {
				if b, _ := os.ReadFile(aside[0]); !bytes.Equal(b, damaged) {
					t.Errorf("the file kept aside is not the damaged file as found")
				}
			}
			if _, err := s.Append(context.Background(), []Event{ev("new", 1, 1)}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			// The repaired log is clean: the same events, no damage, and the append.
			s = open(t, Options{Dir: dir})
			defer s.Close()
			if got := kept(s, n); fmt.Sprint(got) != fmt.Sprint(want) || len(s.History("new", nil)) != 1 || s.Stats().DamagedRuns != 0 {
				t.Fatalf("after repair: %d kept, %+v", len(got), s.Stats())
			}
		})
	}
}

func TestForeignFilesAreRefusedUntouched(t *testing.T) {
	for _, content := range []string{
		"user,item\nx,y\n",
		"CASCADE-EVENTS-2\n\x10\x00\x00\x00",
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "events.log")
		os.WriteFile(path, []byte(content), 0o644)
		_, err := Open(Options{Dir: dir, Logger: quiet()})
		if err == nil || !strings.Contains(err.Error(), "Cascade") {
			t.Errorf("%q: %v", content, err)
		}
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("%q was changed to %q", content, b)
		}
	}
}

// The scanner resynchronises on the next valid record whatever the damage: a random run of
// bytes inside the log loses the records it touches and no other.
func TestScannerResyncOracle(t *testing.T) {
	var log []byte
	var offs []int
	for k := range 300 {
		offs = append(offs, len(log))
		log = appendRecord(log, ev(fmt.Sprintf("user-%d", k), k, k))
	}
	offs = append(offs, len(log))
	for trial := range 200 {
		b := bytes.Clone(log)
		start := (trial * 7919) % (len(b) - 64)
		length := 1 + trial%50
		for i := start; i < start+length; i++ {
			b[i] = byte(i*131 + trial)
		}
		var got []string
		sc := newScanner(bytes.NewReader(b), 0, nil)
		for sc.next() {
			got = append(got, decodeRecord(sc.rec).User)
		}
		var want []string
		for k := range 300 {
			if offs[k+1] <= start || offs[k] >= start+length || bytes.Equal(b[offs[k]:offs[k+1]], log[offs[k]:offs[k+1]]) {
				want = append(want, fmt.Sprintf("user-%d", k))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("trial %d (bytes %d+%d): got %d records, want %d", trial, start, length, len(got), len(want))
		}
	}
}
