package ope

import "context"

// RewardModel is a direct model of the expected reward q(x, a, k) of action a in context x at
// position k, as the doubly robust estimator uses. DR fits it by cross-fitting, once per fold.
type RewardModel interface {
	// Fit trains on the log's rows whose indices are in train (ascending) and returns the fitted
	// model. It must not keep or modify the log's rows.
	Fit(ctx context.Context, l *Log, train []int) (RewardPredictor, error)
}

// RewardPredictor is a fitted RewardModel.
type RewardPredictor interface {
	// Predict writes q̂(x, a, k) into dst[a] for every action a (len(dst) is Log.Actions), for
	// the context and position of r. The values must be finite.
	Predict(r *Row, dst []float64)
}
