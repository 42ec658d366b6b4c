package coat

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadMatrix(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, text string
		rows, cols int
		want       [][]float64
		err        string
	}{
		{"crlf", "0 3 0\r\n5 0 1e-1\r\n", 2, 3, [][]float64{{0, 3, 0}, {5, 0, 0.1}}, ""},
		{"lf", "1 2\n3 4\n", 2, 2, [][]float64{{1, 2}, {3, 4}}, ""},
		{"short row", "1 2\n3\n", 2, 2, nil, "m.ascii:2: 1 columns, want 2"},
		{"bad number", "1 x\n3 4\n", 2, 2, nil, `m.ascii:1: column 2: "x" is not a finite number`},
		{"too few rows", "1 2\n", 2, 2, nil, "m.ascii:1: 1 rows, want 2"},
		{"too many rows", "1 2\n3 4\n5 6\n", 2, 2, nil, "m.ascii:3: more than 2 rows"},
		{"shape from the file", "1 2 3\n4 5 6\n", 0, 0, [][]float64{{1, 2, 3}, {4, 5, 6}}, ""},
		{"ragged, shape from the file", "1 2 3\n4 5\n", 0, 0, nil, "m.ascii:2: 2 columns, want 3"},
		{"empty", "\n", 0, 0, nil, "m.ascii:1: 0 rows"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "m.ascii")
			if err := os.WriteFile(p, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadMatrix(p, c.rows, c.cols)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.want {
				for j := range c.want[i] {
					if got[i][j] != c.want[i][j] {
						t.Fatalf("[%d][%d] = %g, want %g", i, j, got[i][j], c.want[i][j])
					}
				}
			}
		})
	}
}

func TestRatingsRejectsBadValues(t *testing.T) {
	for _, c := range []struct {
		name string
		m, p [][]float64
		err  string
	}{
		{"fraction", [][]float64{{0, 2.5}}, nil, "f:1: column 2: rating 2.5"},
		{"six", [][]float64{{6}}, nil, "f:1: column 1: rating 6"},
		{"zero propensity", [][]float64{{0, 3}}, [][]float64{{0.5, 0}}, "p:1: column 2: propensity 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ratings("f", c.m, c.p, "p")
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v, want %q", err, c.err)
			}
		})
	}
}

func TestWithIPS(t *testing.T) {
	r := []Rating{{Propensity: 0.5}, {Propensity: 0.25}, {Propensity: 0}}
	for _, c := range []struct {
		normalise bool
		minProp   float64
		want      []float64
	}{
		{false, 0, []float64{2, 4, 1}},
		{true, 0, []float64{6.0 / 7, 12.0 / 7, 3.0 / 7}},
		{false, 0.4, []float64{2, 2.5, 1}}, // 0.25 raised to 0.4
	} {
		got := WithIPS(r, c.normalise, c.minProp)
		for j, w := range c.want {
			if math.Abs(got[j].Weight-w) > 1e-12 {
				t.Fatalf("normalise=%v min=%g: weight %d = %g, want %g", c.normalise, c.minProp, j, got[j].Weight, w)
			}
		}
	}
}

// TestTrainMatchesWeightedOracle checks that weighting a rating by 2 equals repeating it, and
// that a full-rank fit with small λ reproduces a small rank-1 matrix.
func TestTrainMatchesWeightedOracle(t *testing.T) {
	base := []Rating{{0, 0, 4, 0, 1}, {0, 1, 2, 0, 1}, {1, 0, 5, 0, 1}, {1, 1, 1, 0, 1}, {2, 0, 3, 0, 1}}
	dup := append(append([]Rating{}, base...), base[0])
	w := append([]Rating{}, base...)
	w[0].Weight = 2
	cfg := Config{Factors: 2, Lambda: 0.5, Iterations: 15, Seed: 3}
	a, err := Train(dup, 3, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(w, 3, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for u := range 3 {
		for i := range 2 {
			if d := math.Abs(a.Predict(u, i) - b.Predict(u, i)); d > 1e-9 {
				t.Fatalf("(%d,%d): duplicated %g vs weighted %g", u, i, a.Predict(u, i), b.Predict(u, i))
			}
		}
	}
	fit, err := Train(base, 3, 2, Config{Factors: 2, Lambda: 1e-6, Iterations: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e := Evaluate(fit, base); e.MSE > 1e-3 {
		t.Fatalf("train MSE %g, want ≈ 0", e.MSE)
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	good := Config{Factors: 1, Lambda: 1, Iterations: 1}
	for _, c := range []struct {
		name string
		r    []Rating
		cfg  Config
		err  string
	}{
		{"no ratings", nil, good, "no training ratings"},
		{"user out of range", []Rating{{User: 5, Weight: 1, Value: 3}}, good, "out of range"},
		{"zero weight", []Rating{{Value: 3}}, good, "weight 0"},
		{"lambda", []Rating{{Value: 3, Weight: 1}}, Config{Factors: 1, Iterations: 1}, "lambda"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Train(c.r, 2, 2, c.cfg); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v, want %q", err, c.err)
			}
		})
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
