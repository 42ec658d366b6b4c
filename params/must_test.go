package params

import (
	"math"
	"testing"
)

func TestOneOfWording(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{OneOf("loss", "x", "bce", "softmax"), `loss: must be "bce" or "softmax", got "x"`},
		{OneOf("attention", "x", "din", "dot", "mean"), `attention: must be "din", "dot" or "mean", got "x"`},
		{Must("epochs", 0, "be ≥ 1"), "epochs: must be ≥ 1, got 0"},
		{IntsIn("hidden", []int{64, 0}, 1, 1<<16), "hidden[1]: must be in [1, 65536], got 0"},
		{IntIn("dim", 0, 1, 4096), "dim: must be in [1, 4096], got 0"},
		{AtLeast("epochs", -1, 1), "epochs: must be ≥ 1, got -1"},
		{Positive("reg", 0), "reg: must be a finite number > 0, got 0"},
		{Positive("reg", math.Inf(1)), "reg: must be a finite number > 0, got +Inf"},
		{NonNegative("alpha", math.NaN()), "alpha: must be a finite number ≥ 0, got NaN"},
		{Check(false, "heads", 3, "divide dim"), "heads: must divide dim, got 3"},
		{First(nil, AtLeast("a", 0, 1), AtLeast("b", 0, 1)), "a: must be ≥ 1, got 0"},
	} {
		if c.err == nil {
			t.Fatalf("no error, want %s", c.want)
		}
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}

func TestRulesPass(t *testing.T) {
	if err := First(IntIn("dim", 1, 1, 4096), AtLeast("epochs", 1, 1), Positive("reg", 1e-9), NonNegative("alpha", 0), Check(true, "x", 0, "")); err != nil {
		t.Fatal(err)
	}
}
