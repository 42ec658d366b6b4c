package ope

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
)

// foldStream is the PCG stream of the fold assignment.
const foldStream = 0xf01d5

// Folds splits rows 0..n−1 into k folds: a permutation drawn from PCG(seed, foldStream), the
// row at position j of it going to fold j mod k, so that fold sizes differ by at most one. Each
// fold lists its rows in ascending order. It panics unless 1 ≤ k ≤ n.
func Folds(n, k int, seed uint64) [][]int {
	if k < 1 || k > n {
		panic(fmt.Sprintf("ope: Folds(%d, %d): want 1 ≤ k ≤ n", n, k))
	}
	perm := rand.New(rand.NewPCG(seed, foldStream)).Perm(n)
	out := make([][]int, k)
	for j, i := range perm {
		out[j%k] = append(out[j%k], i)
	}
	for f := range out {
		slices.Sort(out[f])
	}
	return out
}

// crossFit fits o.Model once per fold on the rows of the other folds and calls visit with the
// fitted model and the fold's own rows, so that no row is predicted by a model trained on it.
func crossFit(ctx context.Context, l *Log, o Options, visit func(pred RewardPredictor, rows []int) error) error {
	n := len(l.Rows)
	if n < o.Folds {
		return fmt.Errorf("ope: %d rows cannot make %d cross-fitting folds: %w", n, o.Folds, ErrEmpty)
	}
	folds := Folds(n, o.Folds, o.Seed)
	fold := make([]int, n)
	for f, rows := range folds {
		for _, i := range rows {
			fold[i] = f
		}
	}
	train := make([]int, 0, n)
	for f, rows := range folds {
		if err := ctx.Err(); err != nil {
			return err
		}
		train = train[:0]
		for i := range n {
			if fold[i] != f {
				train = append(train, i)
			}
		}
		pred, err := o.Model.Fit(ctx, l, train)
		if err != nil {
			return fmt.Errorf("ope: fitting the direct model for fold %d of %d: %w", f+1, o.Folds, err)
		}
		o.Logger.Debug("direct model fitted", "fold", f+1, "folds", o.Folds, "train_rows", len(train), "held_out", len(rows))
		if err := visit(pred, rows); err != nil {
			return err
		}
	}
	return nil
}
