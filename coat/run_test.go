package coat

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// small is a Coat-shaped data set of test size with strong self-selection.
var small = Synthetic{Users: 80, Items: 60, TrainPerUser: 12, TestPerUser: 8, Selection: 0.8, Seed: 7}

func loadSynthetic(t *testing.T, s Synthetic) *Data {
	t.Helper()
	dir := t.TempDir()
	if err := WriteSynthetic(dir, s); err != nil {
		t.Fatal(err)
	}
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadSynthetic(t *testing.T) {
	d := loadSynthetic(t, small)
	if d.Users != 80 || d.Items != 60 || len(d.Test) != 80*8 {
		t.Fatalf("shape %d × %d, %d test ratings", d.Users, d.Items, len(d.Test))
	}
	if n := len(d.Train); n < 80*8 || n > 80*16 {
		t.Fatalf("%d train ratings, want about %d", n, 80*12)
	}
	for _, r := range d.Train {
		if !(r.Propensity > 0 && r.Propensity <= 1) {
			t.Fatalf("train rating %+v without a propensity", r)
		}
	}
}

func TestLoadRejectsMismatchedShapes(t *testing.T) {
	dir := t.TempDir()
	if err := WriteSynthetic(dir, small); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	s := small
	s.Items = 59
	if err := WriteSynthetic(other, s); err != nil {
		t.Fatal(err)
	}
	// test.ascii with one column fewer than train.ascii.
	if err := copyFile(filepath.Join(other, "test.ascii"), filepath.Join(dir, "test.ascii")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "test.ascii:1: 59 columns, want 60") {
		t.Fatalf("err = %v", err)
	}
}

func grid(weighting string) []Params {
	var g []Params
	for _, k := range []int{2, 4} {
		for _, l := range []float64{1, 10} {
			p := DefaultParams()
			p.Weighting, p.Factors, p.Lambda, p.Iterations = weighting, k, l, 5
			g = append(g, p)
		}
	}
	return g
}

func TestRun(t *testing.T) {
	d := loadSynthetic(t, small)
	ctx := context.Background()
	mse := map[string]float64{}
	for _, c := range []struct {
		name string
		grid []Params
		opt  Options
	}{
		{"naive holdout", grid(Naive), Options{Holdout: 0.2, Seed: 1}},
		{"ips holdout", grid(IPS), Options{Holdout: 0.2, Seed: 1}},
		{"ips folds", grid(IPS), Options{Folds: 3, Seed: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Run(ctx, d, c.grid, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Ratings.N != len(d.Test) || !(rep.Ratings.MSE > 0 && rep.Ratings.MSE < 4) || rep.Chosen.Trials != 4 {
				t.Fatalf("report %+v", rep)
			}
			if c.opt.Folds > 0 && rep.Split["folds"] != c.opt.Folds {
				t.Fatalf("split %v", rep.Split)
			}
			mse[c.name] = rep.Ratings.MSE
		})
	}
	// Under strong self-selection with the true propensities, weighting must help.
	if !(mse["ips holdout"] < mse["naive holdout"]) {
		t.Fatalf("ips MSE %g not below naive %g", mse["ips holdout"], mse["naive holdout"])
	}
}

// TestRunNeverReadsTestForChoice changes every test rating: the choice must not move.
func TestRunNeverReadsTestForChoice(t *testing.T) {
	d := loadSynthetic(t, small)
	a, err := Run(context.Background(), d, grid(IPS), Options{Folds: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for j := range d.Test {
		d.Test[j].Value = 6 - d.Test[j].Value
	}
	b, err := Run(context.Background(), d, grid(IPS), Options{Folds: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if a.Chosen != b.Chosen || a.Ratings == b.Ratings {
		t.Fatalf("chosen %+v vs %+v, test %+v vs %+v", a.Chosen, b.Chosen, a.Ratings, b.Ratings)
	}
}

func TestValidationFolds(t *testing.T) {
	train := make([]Rating, 103)
	for j := range train {
		train[j] = Rating{User: j, Value: float64(j)}
	}
	folds, err := validationFolds(train, Options{Folds: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for _, f := range folds {
		if n := len(f.val); n < 25 || n > 26 || len(f.fit)+n != len(train) {
			t.Fatalf("fold sizes %d + %d", len(f.fit), n)
		}
		for _, r := range f.val {
			seen[r.User]++
		}
	}
	if len(seen) != len(train) {
		t.Fatalf("%d of %d ratings validated", len(seen), len(train))
	}
	for u, n := range seen {
		if n != 1 {
			t.Fatalf("rating %d validated %d times", u, n)
		}
	}
}

func TestRunRejects(t *testing.T) {
	d := loadSynthetic(t, small)
	mixed := append(grid(Naive), grid(IPS)...)
	bad := grid(IPS)
	bad[0].MinPropensity = 1
	for _, c := range []struct {
		name string
		grid []Params
		opt  Options
		err  string
	}{
		{"empty grid", nil, Options{Holdout: 0.2}, "empty"},
		{"mixed weightings", mixed, Options{Holdout: 0.2}, "mixes weightings"},
		{"bad params", bad, Options{Holdout: 0.2}, "min_propensity"},
		{"holdout", grid(IPS), Options{Holdout: 1}, "holdout"},
		{"folds", grid(IPS), Options{Folds: 1 << 20}, "folds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Run(context.Background(), d, c.grid, c.opt); err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v, want %q", err, c.err)
			}
		})
	}
}
