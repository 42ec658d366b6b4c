package ann

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"
)

func TestHNSWRoundTrip(t *testing.T) {
	h, qs := fixture()
	var buf bytes.Buffer
	n, err := h.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	g, err := ReadHNSW(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if h.Stats() != g.Stats() {
		t.Errorf("stats differ: %+v vs %+v", h.Stats(), g.Stats())
	}
	want, _ := h.SearchBatchEf(qs, 50, 100, nil, nil)
	got, _ := g.SearchBatchEf(qs, 50, 100, nil, nil)
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("query %d: loaded index returns %v, want %v", i, got[i], want[i])
		}
	}
}

func TestHNSWRoundTripEmpty(t *testing.T) {
	h, _ := NewHNSW(nil, 3, HNSWOptions{})
	var buf bytes.Buffer
	if _, err := h.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := ReadHNSW(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := g.Search(make([]float32, 3), 5, nil); err != nil || len(res) != 0 || g.Dim() != 3 {
		t.Fatalf("empty index after load: %v, %v, dim %d", res, err, g.Dim())
	}
}

// smallFile returns a serialised index small enough to corrupt byte by byte.
func smallFile(t *testing.T) []byte {
	t.Helper()
	h, err := NewHNSW(gaussian(60, 4, 1), 4, HNSWOptions{M: 3, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := h.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadHNSWTruncated(t *testing.T) {
	file := smallFile(t)
	for n := range len(file) {
		_, err := ReadHNSW(bytes.NewReader(file[:n]))
		if !errors.Is(err, ErrFormat) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("truncated to %d of %d bytes: err = %v", n, len(file), err)
		}
	}
}

func TestReadHNSWCorrupt(t *testing.T) {
	file := smallFile(t)
	for i := range file {
		for _, bit := range []byte{0x01, 0x80} {
			bad := slices.Clone(file)
			bad[i] ^= bit
			if _, err := ReadHNSW(bytes.NewReader(bad)); !errors.Is(err, ErrFormat) {
				t.Fatalf("bit %#x of byte %d flipped: err = %v", bit, i, err)
			}
		}
	}
}

func TestReadHNSWBadHeader(t *testing.T) {
	file := smallFile(t)
	cases := map[string]func([]byte){
		"magic":   func(b []byte) { copy(b, "NOTANIDX") },
		"version": func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 99) },
	}
	for name, mutate := range cases {
		bad := slices.Clone(file)
		mutate(bad)
		if _, err := ReadHNSW(bytes.NewReader(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// A header whose checksum matches but whose graph is inconsistent must be
	// rejected by validation, not by a panic during a later search.
	h, _ := NewHNSW(gaussian(60, 4, 1), 4, HNSWOptions{M: 3, Workers: 1})
	h.links0[1] = 1000 // neighbour out of range
	var buf bytes.Buffer
	h.WriteTo(&buf)
	if _, err := ReadHNSW(&buf); !errors.Is(err, ErrFormat) {
		t.Errorf("out-of-range neighbour: err = %v", err)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestHNSWWriteError(t *testing.T) {
	h, _ := fixture()
	if _, err := h.WriteTo(&failWriter{n: 1 << 16}); err == nil {
		t.Fatal("write error not reported")
	}
}
