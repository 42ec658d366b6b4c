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
	// Folds ≥ 2 replaces the holdout by Folds-fold cross-validation: every train rating is
	// validated once, by a model fitted on the other folds, and the errors are pooled. The IPS
	// estimate of one small holdout is noisy (a few ratings with tiny propensities dominate it),
	// and a wide grid then picks noise.
	Folds int
	Seed  uint64 // draws the holdout split or the folds
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
	folds, err := validationFolds(d.Train, opt)
	if err != nil {
		return nil, err
	}
	best, err := choose(ctx, folds, d, grid)
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
		Split:     map[string]int{"folds": len(folds), "fit": len(folds[0].fit), "validation": len(folds[0].val), "test": len(d.Test)},
	}, nil
}

// fold is one validation round: a model is fitted on fit and judged on val.
type fold struct{ fit, val []Rating }

// validationFolds draws the holdout split (one fold) or the cross-validation folds.
func validationFolds(train []Rating, opt Options) ([]fold, error) {
	rng := rand.New(rand.NewPCG(opt.Seed, 0x5B117))
	if opt.Folds < 2 {
		if !(opt.Holdout > 0 && opt.Holdout < 1) {
			return nil, fmt.Errorf("holdout must be in (0, 1), got %g", opt.Holdout)
		}
		var f fold
		for _, x := range train {
			if rng.Float64() < opt.Holdout {
				f.val = append(f.val, x)
			} else {
				f.fit = append(f.fit, x)
			}
		}
		if len(f.fit) == 0 || len(f.val) == 0 {
			return nil, fmt.Errorf("holdout %g of %d train ratings leaves %d to fit and %d to validate", opt.Holdout, len(train), len(f.fit), len(f.val))
		}
		return []fold{f}, nil
	}
	if opt.Folds > len(train) {
		return nil, fmt.Errorf("%d folds of %d train ratings", opt.Folds, len(train))
	}
	// A shuffled round-robin gives every fold ⌊n/k⌋ or ⌈n/k⌉ ratings.
	of := make([]int, len(train))
	for j, p := range rng.Perm(len(train)) {
		of[p] = j % opt.Folds
	}
	folds := make([]fold, opt.Folds)
	for j, x := range train {
		for k := range folds {
			if k == of[j] {
				folds[k].val = append(folds[k].val, x)
			} else {
				folds[k].fit = append(folds[k].fit, x)
			}
		}
	}
	return folds, nil
}

// choose returns the grid point with the lowest validation error pooled over the folds (each
// fold's squared errors weighted as its estimator says, divided by the total weight; ties: the
// first point).
func choose(ctx context.Context, folds []fold, d *Data, grid []Params) (Chosen, error) {
	best := Chosen{Trials: len(grid)}
	for i, p := range grid {
		var se, sw float64
		for _, f := range folds {
			if err := ctx.Err(); err != nil {
				return best, err
			}
			m, err := Train(p.weigh(f.fit), d.Users, d.Items, p.Config())
			if err != nil {
				return best, err
			}
			fse, _, fsw := errorSums(m, p.forValidation(f.val))
			se += fse
			sw += fsw
		}
		if e := se / sw; i == 0 || e < best.Validation {
			best.Params, best.Index, best.Validation = p, i, e
		}
	}
	return best, nil
}
