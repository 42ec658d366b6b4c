package als

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/progress"
)

// TrainStats records a training run, one entry per iteration.
type TrainStats struct {
	Loss    []float64 // the objective after the iteration (see IALSParams, ALSParams)
	Seconds []float64 // wall time of the iteration: both sweeps and the objective
}

// checkDims checks the matrix dimensions a Train call is given.
func checkDims(kind string, numUsers, numItems int) error {
	if numUsers < 0 || numItems < 0 {
		return fmt.Errorf("%s: negative dimensions %d×%d", kind, numUsers, numItems)
	}
	return nil
}

// initialFactors draws the starting user and item factors (rows×k, then cols×k) from seed.
func initialFactors(seed int64, rows, cols, k int) (users, items []float32) {
	rng := newRNG(seed)
	users = initFactors(rng, rows, k)
	items = initFactors(rng, cols, k)
	return users, items
}

// runIterations runs a training's iterations: step does one (both sweeps) and returns the objective,
// which the stats record with the wall time and a progress bar named kind shows. It stops with
// ctx's error, or step's, wrapped with the iteration.
func runIterations(ctx context.Context, kind string, iterations int, opt progress.Options, step func() (float64, error)) (TrainStats, error) {
	var stats TrainStats
	bar := progress.New(kind, int64(iterations), opt)
	defer bar.Finish()
	for it := range iterations {
		if err := ctx.Err(); err != nil {
			return stats, fmt.Errorf("%s: iteration %d: %w", kind, it+1, err)
		}
		start := time.Now()
		loss, err := step()
		if err != nil {
			return stats, fmt.Errorf("%s: iteration %d: %w", kind, it+1, err)
		}
		stats.Loss = append(stats.Loss, loss)
		stats.Seconds = append(stats.Seconds, time.Since(start).Seconds())
		bar.Describe("loss %.6g", loss)
		bar.Add(1)
	}
	return stats, nil
}

// solveRows is one sweep of ALS or iALS: it solves every row of m into its k factors in dst, in
// parallel chunks on the workers' solvers. A row with no entries gets zero factors (the exact
// minimiser when nothing is observed); solve does the others and returns false when the row's
// normal equations are not positive definite, which fails the sweep naming side and the row.
func solveRows(ctx context.Context, side string, m *dataset.Matrix, dst []float32, k int, solvers []*rowSolver,
	solve func(s *rowSolver, row int, idx []int32, vals, x []float32) bool) error {
	var bad atomic.Int64
	bad.Store(-1)
	err := kernel.For(ctx, m.Rows, rowChunk, len(solvers), func(w, lo, hi int) error {
		s := solvers[w]
		for row := lo; row < hi; row++ {
			idx, vals := m.Row(row)
			x := dst[row*k : row*k+k]
			if len(idx) == 0 {
				clear(x)
				continue
			}
			if !solve(s, row, idx, vals, x) {
				bad.Store(int64(row))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if row := bad.Load(); row >= 0 {
		return fmt.Errorf("%s %d: normal equations are not positive definite (increase reg)", side, row)
	}
	return nil
}

// sumRows is the per-user part of an objective: loss(w, u) for every row u of rowLoss, in
// parallel chunks on workers goroutines (w names the worker, for its scratch), stored in rowLoss
// and summed in row order, so that the value does not depend on the schedule.
func sumRows(ctx context.Context, workers int, rowLoss []float64, loss func(w, u int) float64) (float64, error) {
	err := kernel.For(ctx, len(rowLoss), rowChunk, workers, func(w, lo, hi int) error {
		for u := lo; u < hi; u++ {
			rowLoss[u] = loss(w, u)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var total float64
	for _, l := range rowLoss {
		total += l
	}
	return total, nil
}
