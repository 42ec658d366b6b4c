package coat

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
)

// Grid is the hyperparameter grid searched on the validation split.
type Grid struct {
	Factors    []int     `json:"factors"`
	Lambda     []float64 `json:"lambda"`
	Iterations []int     `json:"iterations"`
}

// DefaultGrid is the grid `cascade coat` searches.
var DefaultGrid = Grid{
	Factors:    []int{2, 5, 10, 20},
	Lambda:     []float64{1, 3, 10, 30},
	Iterations: []int{5, 10, 20},
}

// Options configure Run.
type Options struct {
	Grid      Grid
	Holdout   float64 // share of train ratings held out for validation
	Normalise bool    // scale IPS weights to average 1
	Seed      uint64
}

// Chosen is one model's selected hyperparameters and validation error.
type Chosen struct {
	Config     Config  `json:"config"`
	Validation float64 `json:"validation_mse"` // naive: MSE; ips: IPS-weighted (self-normalised) MSE
}

// Result is one model's test errors.
type Result struct {
	Ratings Errors `json:"ratings"`
}

// Report is the experiment's outcome, as `cascade coat --json` writes it.
type Report struct {
	Naive  Result            `json:"naive"`
	IPS    Result            `json:"ips"`
	Chosen map[string]Chosen `json:"chosen"`
	Split  map[string]int    `json:"split"`
}

// Run splits the train ratings into fit and validation parts, picks each model's hyperparameters
// on the validation part (naive by MSE, IPS by IPS-weighted MSE; the test ratings are never
// looked at), refits on all train ratings and evaluates on the test ratings.
func Run(ctx context.Context, d *Data, opt Options) (*Report, error) {
	if !(opt.Holdout > 0 && opt.Holdout < 1) {
		return nil, fmt.Errorf("holdout must be in (0, 1), got %g", opt.Holdout)
	}
	if len(opt.Grid.Factors) == 0 || len(opt.Grid.Lambda) == 0 || len(opt.Grid.Iterations) == 0 {
		return nil, errors.New("empty hyperparameter grid")
	}
	fit, val := split(d.Train, opt.Holdout, opt.Seed)
	rep := &Report{Chosen: map[string]Chosen{}, Split: map[string]int{"fit": len(fit), "validation": len(val), "test": len(d.Test)}}
	for _, arm := range []struct {
		name   string
		weight func([]Rating) []Rating
		out    *Result
	}{
		{"naive", Unweighted, &rep.Naive},
		{"ips", func(r []Rating) []Rating { return WithIPS(r, opt.Normalise) }, &rep.IPS},
	} {
		best, err := choose(ctx, arm.weight(fit), WithIPSIf(arm.name == "ips", val), d, opt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arm.name, err)
		}
		rep.Chosen[arm.name] = best
		m, err := Train(arm.weight(d.Train), d.Users, d.Items, best.Config)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arm.name, err)
		}
		arm.out.Ratings = Evaluate(m, Unweighted(d.Test))
	}
	return rep, nil
}

// WithIPSIf weights the ratings by inverse propensity when ips, else by 1.
func WithIPSIf(ips bool, r []Rating) []Rating {
	if ips {
		return WithIPS(r, false)
	}
	return Unweighted(r)
}

// choose returns the grid point with the lowest weighted validation MSE (ties: first in grid order).
func choose(ctx context.Context, fit, val []Rating, d *Data, opt Options) (Chosen, error) {
	var best Chosen
	found := false
	for _, k := range opt.Grid.Factors {
		for _, l := range opt.Grid.Lambda {
			for _, it := range opt.Grid.Iterations {
				if err := ctx.Err(); err != nil {
					return best, err
				}
				cfg := Config{Factors: k, Lambda: l, Iterations: it, Seed: opt.Seed}
				m, err := Train(fit, d.Users, d.Items, cfg)
				if err != nil {
					return best, err
				}
				e := Evaluate(m, val).MSE
				if !found || e < best.Validation {
					best, found = Chosen{Config: cfg, Validation: e}, true
				}
			}
		}
	}
	return best, nil
}

// split holds out a seeded random share of the ratings.
func split(r []Rating, share float64, seed uint64) (fit, val []Rating) {
	rng := rand.New(rand.NewPCG(seed, 0x5B117))
	for _, x := range r {
		if rng.Float64() < share {
			val = append(val, x)
		} else {
			fit = append(fit, x)
		}
	}
	return fit, val
}
