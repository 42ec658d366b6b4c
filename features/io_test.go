package features

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/artifact"
)

// TestSaveLoad: loaded statistics give bit-identical features and the same configuration.
func TestSaveLoad(t *testing.T) {
	w := newRandomWorld(11, 30, 50, 900)
	cfg := DefaultConfig()
	cfg.CoocWindow = 3
	cfg.Features = []string{"score", "log_prior_decayed", "item_mean_rating", "cooc", "cooc_cos", "genre_share", "attrdiff", "src"}
	st, err := Build(context.Background(), w.events, w.numItems, w.ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stats.features")
	sum, err := st.Save(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 64 {
		t.Errorf("checksum %q", sum)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Config(), st.Config()) || got.NumItems() != st.NumItems() || got.NumEvents() != st.NumEvents() || got.AttributeColumn() != "genres" {
		t.Fatalf("loaded config %+v, items %d, events %d", got.Config(), got.NumItems(), got.NumEvents())
	}
	if err := sameStats(got, st); err != nil {
		t.Error(err)
	}
	models := []NamedScorer{{"half", halfScorer{int32(w.numItems)}}}
	xa, err := NewExtractor(st, models, []string{"src"})
	if err != nil {
		t.Fatal(err)
	}
	xb, err := NewExtractor(got, models, []string{"src"})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tq := range []int64{20 * day, 120 * day} {
		b := w.query(r, 3, tq, 30)
		if err := sameBits(compute(t, xa, b), compute(t, xb, b)); err != nil {
			t.Error(err)
		}
	}

	// Statistics without ratings, attributes or events round-trip too.
	empty, err := Build(context.Background(), nil, 3, nil, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameStats(got, empty); err != nil {
		t.Errorf("empty statistics: %v", err)
	}
}

// TestLoadCorrupt: flipped bytes, truncation, a foreign kind and a consistent checksum over an
// inconsistent payload are all refused with artifact.ErrCorrupt.
func TestLoadCorrupt(t *testing.T) {
	st, err := Build(context.Background(), tinyLog(), 5, tinyDataset(), tinyConfig())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ok.features")
	if _, err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 0x40
	cases := map[string]string{
		"flipped":   write("flipped", flipped),
		"truncated": write("truncated", data[:len(data)-10]),
		"empty":     write("empty", nil),
	}
	foreign := filepath.Join(dir, "foreign")
	if _, err := artifact.WriteFile(foreign, artifact.Header{Kind: "popularity", Version: 1}, []byte{1}); err != nil {
		t.Fatal(err)
	}
	cases["foreign"] = foreign

	// Valid containers around inconsistent payloads.
	for name, mod := range map[string]func(s *Stats){
		"attribute value": func(s *Stats) { s.catVals = slices.Clone(s.catVals); s.catVals[0] = -1 },
		"self neighbour":  func(s *Stats) { s.nbrItem = slices.Clone(s.nbrItem); s.nbrItem[0] = 0 },
		"config":          func(s *Stats) { s.cfg.CoocTopK = -1 },
		"pair offsets":    func(s *Stats) { s.pairOff = slices.Clone(s.pairOff[:len(s.pairOff)-1]) },
	} {
		bad := *st
		mod(&bad)
		p := filepath.Join(dir, name)
		if _, err := bad.Save(p); err != nil {
			t.Fatal(err)
		}
		cases[name] = p
	}
	// And one whose payload ends early.
	short := filepath.Join(dir, "short")
	var e artifact.Encoder
	e.String(`{}`)
	if _, err := artifact.WriteFile(short, artifact.Header{Kind: format.Kind, Version: 1}, e.Bytes()); err != nil {
		t.Fatal(err)
	}
	cases["short"] = short
	for name, p := range cases {
		if _, err := Load(p); !errors.Is(err, artifact.ErrCorrupt) {
			t.Errorf("%s: error %v does not wrap ErrCorrupt", name, err)
		}
	}
	newer := filepath.Join(dir, "newer")
	if _, err := artifact.WriteFile(newer, artifact.Header{Kind: format.Kind, Version: format.Version + 1}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(newer); err == nil {
		t.Error("a newer format version was accepted")
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file was accepted")
	}
}

// sameStats compares every field of two Stats (nil and empty slices alike; NaN equal to NaN).
func sameStats(a, b *Stats) error {
	f32 := func(x, y []float32) bool {
		return slices.EqualFunc(x, y, func(p, q float32) bool { return math.Float32bits(p) == math.Float32bits(q) })
	}
	f64 := func(x, y []float64) bool {
		return slices.EqualFunc(x, y, func(p, q float64) bool { return math.Float64bits(p) == math.Float64bits(q) })
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"cfg", reflect.DeepEqual(a.Config(), b.Config())},
		{"numItems", a.numItems == b.numItems},
		{"itemOff", slices.Equal(a.itemOff, b.itemOff)},
		{"itemTimes", slices.Equal(a.itemTimes, b.itemTimes)},
		{"itemVals", f32(a.itemVals, b.itemVals) && (a.itemVals == nil) == (b.itemVals == nil)},
		{"nbrOff", slices.Equal(a.nbrOff, b.nbrOff)},
		{"nbrItem", slices.Equal(a.nbrItem, b.nbrItem)},
		{"pairOff", slices.Equal(a.pairOff, b.pairOff)},
		{"pairTimes", slices.Equal(a.pairTimes, b.pairTimes)},
		{"cat", a.catName == b.catName && a.numValues == b.numValues && slices.Equal(a.catOff, b.catOff) && slices.Equal(a.catVals, b.catVals)},
		{"numCols", slices.Equal(a.numCols, b.numCols) && slices.EqualFunc(a.numVals, b.numVals, f32)},
		{"derived", a.lambda == b.lambda && f64(a.itemDecay, b.itemDecay) && f64(a.rateSum, b.rateSum) && slices.Equal(a.rateCnt, b.rateCnt) &&
			slices.Equal(a.allTimes, b.allTimes) && f64(a.allDecay, b.allDecay) && slices.Equal(a.numSuffix, b.numSuffix)},
	}
	for _, c := range checks {
		if !c.ok {
			return fmt.Errorf("field %s differs", c.name)
		}
	}
	return nil
}

// TestLoadMutatedPayloads: payloads damaged behind a valid checksum are refused or loaded,
// never a panic.
func TestLoadMutatedPayloads(t *testing.T) {
	w := newRandomWorld(4, 10, 20, 200)
	st, err := Build(context.Background(), w.events, w.numItems, w.ds, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ok")
	if _, err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	_, payload, err := artifact.ReadFile(path, format.Kind, format.Version)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 3))
	for k := range 200 {
		p := slices.Clone(payload)
		for range 1 + r.IntN(3) {
			p[r.IntN(len(p))] = byte(r.IntN(256))
		}
		if k%4 == 0 {
			p = p[:r.IntN(len(p))]
		}
		bad := filepath.Join(dir, "bad")
		if _, err := artifact.WriteFile(bad, artifact.Header{Kind: format.Kind, Version: format.Version}, p); err != nil {
			t.Fatal(err)
		}
		if s, err := Load(bad); err == nil {
			// Whatever loaded must be usable.
			x, err := NewExtractor(s, nil, nil)
			if err != nil {
				continue
			}
			b := w.query(r, 1, 50*day, 10)
			b.Sources = nil
			if _, err := x.Compute(context.Background(), b, nil); err != nil {
				t.Fatal(err)
			}
		} else if !errors.Is(err, artifact.ErrCorrupt) {
			t.Fatalf("mutation %d: error %v does not wrap ErrCorrupt", k, err)
		}
	}
}
