package gbdt

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// A row of weight 2 counts as the row twice (its gradient and hessian double), and weights move
// the binary objective's initial score to the weighted mean label; bad weights are refused.
func TestWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	var x, y, w []float64
	var xd, yd []float64
	for range 400 {
		f := float64(r.IntN(6)) // few distinct values: the same bins either way
		g := float64(r.IntN(4))
		label := 0.0
		if r.Float64() < 0.2+0.1*f-0.05*g {
			label = 1
		}
		weight := float64(1 + r.IntN(2))
		x, y, w = append(x, f, g), append(y, label), append(w, weight)
		for range int(weight) {
			xd, yd = append(xd, f, g), append(yd, label)
		}
	}
	p := DefaultParams(ObjectiveBinary)
	p.NumTrees, p.NumLeaves, p.MinDataInLeaf, p.MinSumHessianInLeaf = 20, 6, 1, 1e-6
	weighted := &Dataset{NumRows: len(y), NumFeatures: 2, X: x, Labels: y, Weights: w}
	dup := &Dataset{NumRows: len(yd), NumFeatures: 2, X: xd, Labels: yd}
	mw, err := Train(context.Background(), weighted, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	md, err := Train(context.Background(), dup, nil, p)
	if err != nil {
		t.Fatal(err)
	}
	grid := []float64{}
	for f := range 6 {
		for g := range 4 {
			grid = append(grid, float64(f), float64(g))
		}
	}
	sw, sd := make([]float64, 24), make([]float64, 24)
	if err := mw.Score(grid, sw); err != nil {
		t.Fatal(err)
	}
	if err := md.Score(grid, sd); err != nil {
		t.Fatal(err)
	}
	for i := range sw {
		if math.Abs(sw[i]-sd[i]) > 1e-6 {
			t.Fatalf("cell %d: weighted rows score %v, duplicated rows %v", i, sw[i], sd[i])
		}
	}
	for _, tc := range []struct {
		name    string
		weights []float64
	}{
		{"short", w[:10]},
		{"negative", append([]float64{-1}, w[1:]...)},
		{"NaN", append([]float64{math.NaN()}, w[1:]...)},
	} {
		d := *weighted
		d.Weights = tc.weights
		if _, err := Train(context.Background(), &d, nil, p); err == nil {
			t.Errorf("%s weights were accepted", tc.name)
		}
	}
}
