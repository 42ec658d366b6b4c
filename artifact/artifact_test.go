package artifact

import (
	"errors"
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
