package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var e Encoder
	e.Int(-7)
	e.Float64(math.Pi)
	e.Bool(true)
	e.String("héllo")
	e.Float32s([]float32{1.5, -2, float32(math.Inf(1))})
	e.Float64s([]float64{0.25})
	e.Int32s([]int32{3, -4})
	e.Strings([]string{"a", "", "c"})
	path := filepath.Join(t.TempDir(), "m.bin")
	sum, err := WriteFile(path, Header{Kind: "test", Version: 2}, e.Bytes())
	if err != nil || len(sum) != 64 {
		t.Fatalf("WriteFile: %q, %v", sum, err)
	}
	h, p, err := ReadFile(path, "test", 2)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 2 {
		t.Fatalf("version %d", h.Version)
	}
	d := NewDecoder(p)
	if d.Int() != -7 || d.Float64() != math.Pi || !d.Bool() || d.String() != "héllo" {
		t.Fatal("scalar mismatch")
	}
	f := d.Float32s()
	if len(f) != 3 || f[0] != 1.5 || f[1] != -2 || !math.IsInf(float64(f[2]), 1) {
		t.Fatalf("float32s %v", f)
	}
	if v := d.Float64s(); len(v) != 1 || v[0] != 0.25 {
		t.Fatalf("float64s %v", v)
	}
	if v := d.Int32s(); len(v) != 2 || v[1] != -4 {
		t.Fatalf("int32s %v", v)
	}
	if v := d.Strings(); strings.Join(v, ",") != "a,,c" {
		t.Fatalf("strings %v", v)
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesDamage(t *testing.T) {
	var e Encoder
	e.Float32s(make([]float32, 100))
	good := Marshal(Header{Kind: "ials", Version: 1}, e.Bytes())
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-10], "truncated"},
		{"flipped bit", flipped, "checksum"},
		{"foreign", []byte("tree\nversion=v3\n" + strings.Repeat("x", 40)), "magic"},
		{"empty", nil, "too short"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := ReadFile(p, "ials", 1)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("got %v, want ErrCorrupt mentioning %q and the path", err, c.want)
			}
		})
	}
	p := filepath.Join(dir, "ok")
	os.WriteFile(p, good, 0o644)
	if _, _, err := ReadFile(p, "twotower", 1); err == nil || !strings.Contains(err.Error(), `"ials"`) {
		t.Fatalf("wrong kind accepted: %v", err)
	}
	if _, _, err := ReadFile(p, "ials", 0); err == nil {
		t.Fatal("newer version accepted")
	}
}

func TestDecoderOverrun(t *testing.T) {
	var e Encoder
	e.Int(1 << 40) // a slice length far beyond the payload
	d := NewDecoder(e.Bytes())
	if v := d.Float32s(); v != nil || !errors.Is(d.Err(), ErrCorrupt) {
		t.Fatalf("got %v, %v", v, d.Err())
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.bin")
	test := Format{Kind: "test", Version: 1}
	sum, err := test.Save(path, func(e *Encoder) {
		e.Float32s([]float32{1, 2, 3})
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x", sha256.Sum256(data)); sum != want {
		t.Errorf("checksum %s, the file's is %s", sum, want)
	}
	decode := func(p []byte) ([]float32, error) {
		d := NewDecoder(p)
		v := d.Float32s()
		return v, d.Err()
	}
	if v, err := Load(path, test, decode); err != nil || len(v) != 3 || v[2] != 3 {
		t.Fatalf("Load: %v, %v", v, err)
	}

	// A value JSON cannot encode fails the save, however much is written after it.
	var unsupported *json.UnsupportedValueError
	if _, err := test.Save(filepath.Join(dir, "bad.bin"), func(e *Encoder) {
		e.JSON(math.Inf(1))
		e.Int(1)
	}); !errors.As(err, &unsupported) || !strings.HasPrefix(err.Error(), "save test model: ") {
		t.Errorf("failing put: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed save left a file: %v", err)
	}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		kind   string
		decode func([]byte) ([]float32, error)
		want   []error
	}{
		{"decode error", "test", func([]byte) ([]float32, error) { return nil, boom }, []error{ErrCorrupt, boom}},
		{"trailing bytes", "test", func([]byte) ([]float32, error) { return nil, NewDecoder([]byte{1}).Err() }, []error{ErrCorrupt}},
		{"other kind", "ials", decode, []error{ErrCorrupt}},
	} {
		_, err := Load(path, Format{Kind: tc.kind, Version: 1}, tc.decode)
		for _, w := range tc.want {
			if !errors.Is(err, w) {
				t.Errorf("%s: %v does not wrap %v", tc.name, err, w)
			}
		}
		if err == nil || !strings.HasPrefix(err.Error(), "load "+tc.kind+" model") {
			t.Errorf("%s: error %v", tc.name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.bin"), test, decode); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestWordLayout pins the bytes of the slice encodings that every saved model uses.
func TestWordLayout(t *testing.T) {
	var e Encoder
	e.Float32s([]float32{1, -2})
	e.Int32s([]int32{-4})
	want := []byte{
		2, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0,
		1, 0, 0, 0, 0, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff,
	}
	if got := e.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
	d := NewDecoder(want)
	if f, i := d.Float32s(), d.Int32s(); len(f) != 2 || f[1] != -2 || len(i) != 1 || i[0] != -4 || d.Err() != nil {
		t.Fatalf("decoded %v %v %v", f, i, d.Err())
	}
}
