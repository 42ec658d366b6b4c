package nn

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/artifact"
)

func TestWriteReadParams(t *testing.T) {
	build := func(seed uint64, hidden int) Params {
		rng := newRNG(seed)
		return append(NewLinear("a", 3, hidden, rng).Params(), NewLinear("b", hidden, 2, rng).Params()...)
	}
	saved := build(1, 4)
	var e artifact.Encoder
	WriteParams(&e, saved)
	read := func() SavedParams {
		d := artifact.NewDecoder(e.Bytes())
		s, err := ReadParams(d)
		if err != nil || d.Err() != nil {
			t.Fatalf("ReadParams: %v, %v", err, d.Err())
		}
		return s
	}

	fresh := build(2, 4)
	if err := read().Restore(fresh); err != nil {
		t.Fatal(err)
	}
	for i := range saved {
		if !slices.Equal(saved[i].W, fresh[i].W) {
			t.Fatalf("%s differs after Restore", saved[i].Name)
		}
	}

	for _, tc := range []struct {
		name string
		into Params
		want string
	}{
		{"other shape", build(2, 5), "the architecture wants"},
		{"fewer tensors", build(2, 4)[:3], "the architecture has 3"},
		{"other name", append(build(2, 4)[:3:3], NewParam("c.b", 1, 2, false)), `"c.b"`},
	} {
		if err := read().Restore(tc.into); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
	saved[0].W[1] = float32(math.NaN())
	e = artifact.Encoder{}
	WriteParams(&e, saved)
	if err := read().Restore(build(2, 4)); err == nil || !strings.Contains(err.Error(), "non-finite") {
		t.Errorf("NaN weight: %v", err)
	}

	var big artifact.Encoder
	big.Int(maxSavedParams + 1)
	if _, err := ReadParams(artifact.NewDecoder(big.Bytes())); err == nil {
		t.Error("an absurd tensor count was accepted")
	}
}
