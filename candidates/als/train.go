package als

import (
	"context"
	"fmt"
	"time"

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
