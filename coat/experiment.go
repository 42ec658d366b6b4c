package coat

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
)

// Options configure Run.
type Options struct {
	Holdout float64 // share of the train ratings held out for validation, in (0, 1)
	Seed    uint64  // draws the holdout split
}

// Chosen is the selected grid point and its validation error.
type Chosen struct {
	Params     Params  `json:"params"`
	Index      int     `json:"index"`          // position in the grid given to Run
	Validation float64 `json:"validation_mse"` // naive: MSE; ips: IPS-weighted (self-normalised) MSE
	Trials     int     `json:"trials"`         // grid points compared
}

// Report is one model's outcome: its test errors on the MAR ratings and how it was chosen.
type Report struct {
	Weighting string         `json:"weighting"`
	Ratings   Errors         `json:"ratings"`
	Chosen    Chosen         `json:"chosen"`
	Split     map[string]int `json:"split"`
}

// Run splits the MNAR train ratings into fit and validation parts, trains every grid point on
// the fit part and keeps the one with the lowest validation error (the estimator of its
// weighting; ties: the first), refits it on all train ratings and evaluates it on the MAR test
// ratings, which nothing before that step reads.
func Run(ctx context.Context, d *Data, grid []Params, opt Options) (*Report, error) {
	if !(opt.Holdout > 0 && opt.Holdout < 1) {
		return nil, fmt.Errorf("holdout must be in (0, 1), got %g", opt.Holdout)
	}
	if len(grid) == 0 {
		return nil, errors.New("empty hyperparameter grid")
	}
	for _, p := range grid {
		if p.Weighting != grid[0].Weighting {
			return nil, fmt.Errorf("the grid mixes weightings %s and %s, whose validation errors are not comparable", grid[0].Weighting, p.Weighting)
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	fit, val := split(d.Train, opt.Holdout, opt.Seed)
	if len(fit) == 0 || len(val) == 0 {
		return nil, fmt.Errorf("holdout %g of %d train ratings leaves %d to fit and %d to validate", opt.Holdout, len(d.Train), len(fit), len(val))
	}
	best, err := choose(ctx, fit, val, d, grid)
	if err != nil {
		return nil, err
	}
	m, err := Train(best.Params.weigh(d.Train), d.Users, d.Items, best.Params.Config())
	if err != nil {
		return nil, err
	}
	return &Report{
		Weighting: best.Params.Weighting,
		Ratings:   Evaluate(m, Unweighted(d.Test)),
		Chosen:    best,
		Split:     map[string]int{"fit": len(fit), "validation": len(val), "test": len(d.Test)},
	}, nil
}

// choose returns the grid point with the lowest validation error (ties: the first).
func choose(ctx context.Context, fit, val []Rating, d *Data, grid []Params) (Chosen, error) {
	best := Chosen{Trials: len(grid)}
	valW := grid[0].forValidation(val)
	for i, p := range grid {
		if err := ctx.Err(); err != nil {
			return best, err
		}
		m, err := Train(p.weigh(fit), d.Users, d.Items, p.Config())
		if err != nil {
			return best, err
		}
		if e := Evaluate(m, valW).MSE; i == 0 || e < best.Validation {
			best.Params, best.Index, best.Validation = p, i, e
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
