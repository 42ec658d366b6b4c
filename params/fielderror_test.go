package params

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestFieldErrorText(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{Errorf("alpha", "must be ≥ 0, got %v", -1.5), "alpha: must be ≥ 0, got -1.5"},
		{FieldError{Msg: "no key"}, "no key"},
		{Prefix("models.ials.params", Errorf("alpha", "bad")), "models.ials.params.alpha: bad"},
		{Prefix("rankers[0].params", Errorf("hidden[1]", "bad")), "rankers[0].params.hidden[1]: bad"},
		{Prefix("features.params.features", Errorf("[2]", "bad")), "features.params.features[2]: bad"},
		{Prefix("", Errorf("dim", "bad")), "dim: bad"},
		{Prefix("models.x.params", Errorf("", "bad")), "models.x.params: bad"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
}

func TestPrefixAndFields(t *testing.T) {
	plain := errors.New("not a field")
	for _, c := range []struct {
		name  string
		err   error
		paths []string // of Fields(Prefix("p", err))
		same  bool     // Prefix returns err itself
	}{
		{"nil", nil, nil, true},
		{"plain", plain, nil, true},
		{"one", Errorf("a", "x"), []string{"p.a"}, false},
		{"joined", errors.Join(Errorf("a", "x"), plain, Errorf("b[1]", "y")), []string{"p.a", "p.b[1]"}, false},
		{"nested join", errors.Join(errors.Join(Errorf("a", "x")), Errorf("b", "y")), []string{"p.a", "p.b"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Prefix("p", c.err)
			if c.same && got != c.err {
				t.Fatalf("Prefix changed %v into %v", c.err, got)
			}
			var paths []string
			for _, fe := range Fields(got) {
				paths = append(paths, fe.Path)
			}
			if !slices.Equal(paths, c.paths) {
				t.Fatalf("paths %q, want %q", paths, c.paths)
			}
		})
	}
	// The plain error keeps its identity inside the lifted join.
	if err := Prefix("p", errors.Join(Errorf("a", "x"), plain)); !errors.Is(err, plain) {
		t.Errorf("%v lost the plain error", err)
	}
}

// Fields sees through %w wrapping, as errors.As does.
func TestFieldsUnwraps(t *testing.T) {
	err := fmt.Errorf("load model: %w", Errorf("factors", "must be ≥ 1, got 0"))
	fs := Fields(err)
	var fe FieldError
	if len(fs) != 1 || fs[0].Path != "factors" || !errors.As(err, &fe) || fe != fs[0] {
		t.Fatalf("Fields %v, As %v", fs, fe)
	}
}
