package params

import "testing"

func TestOneOfWording(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{OneOf("loss", "x", "bce", "softmax"), `loss: must be "bce" or "softmax", got "x"`},
		{OneOf("attention", "x", "din", "dot", "mean"), `attention: must be "din", "dot" or "mean", got "x"`},
		{Must("epochs", 0, "be ≥ 1"), "epochs: must be ≥ 1, got 0"},
		{IntsIn("hidden", []int{64, 0}, 1, 1<<16), "hidden[1]: must be in [1, 65536], got 0"},
	} {
		if c.err == nil {
			t.Fatalf("no error, want %s", c.want)
		}
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}
