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
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}
