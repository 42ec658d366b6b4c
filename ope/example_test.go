package ope_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/cascade-rec/cascade/ope"
)

// A uniform-random log of a two-armed bandit (arm 1 pays more often) evaluates a policy that
// plays arm 1 nine times in ten. Its true value is 0.1·0.2 + 0.9·0.5 = 0.47; the log's own mean
// is about 0.35.
func ExampleEvaluate() {
	rng := rand.New(rand.NewPCG(1, 2))
	l := &ope.Log{Actions: 2, Positions: 1}
	for range 4000 {
		a := rng.IntN(2)
		r := 0.0
		if rng.Float64() < []float64{0.2, 0.5}[a] {
			r = 1
		}
		l.Rows = append(l.Rows, ope.Row{Action: a, Reward: r, Propensity: 0.5})
	}
	rep, err := ope.Evaluate(context.Background(), l, ope.Table{{0.1, 0.9}}, ope.Options{Seed: 1, Bootstrap: 500})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range rep.Estimates() {
		fmt.Printf("%-5s %.3f  95%% [%.3f, %.3f]  bootstrap [%.3f, %.3f]\n", e.Estimator, e.Value, e.CI.Lo, e.CI.Hi, e.Bootstrap.Lo, e.Bootstrap.Hi)
	}
	// Output:
	// ips   0.470  95% [0.446, 0.493]  bootstrap [0.448, 0.492]
	// snips 0.466  95% [0.446, 0.486]  bootstrap [0.449, 0.485]
	// dr    0.466  95% [0.446, 0.486]  bootstrap [0.448, 0.486]
}

// A slate of two slots is logged as one row per slot, each with the marginal probability that
// the logging policy put that item in that slot. The evaluated policy gives a distribution per
// position.
func ExampleIPS_slate() {
	l := &ope.Log{Actions: 3, Positions: 2, Rows: []ope.Row{
		{Action: 0, Position: 0, Reward: 1, Propensity: 0.5}, // slate 1: item 0 in slot 0, clicked
		{Action: 2, Position: 1, Reward: 0, Propensity: 0.25},
		{Action: 1, Position: 0, Reward: 0, Propensity: 0.25}, // slate 2
		{Action: 0, Position: 1, Reward: 1, Propensity: 0.5},
	}}
	pi, err := ope.NewTable([][]float64{{0.8, 0.1, 0.1}, {0.2, 0.4, 0.4}}, 3, 2)
	if err != nil {
		log.Fatal(err)
	}
	e, err := ope.IPS(context.Background(), l, pi, ope.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// (0.8/0.5·1 + 0.4/0.25·0 + 0.1/0.25·0 + 0.2/0.5·1)/4 = 0.5
	fmt.Printf("IPS %.2f, weights up to %.1f, effective sample size %.2f of %d rows\n", e.Value, e.MaxWeight, e.ESS, e.N)
	// Output: IPS 0.50, weights up to 1.6, effective sample size 2.94 of 4 rows
}
