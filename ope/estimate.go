package ope

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
)

// Estimator names, as Estimate.Estimator reports them.
const (
	NameIPS      = "ips"
	NameSNIPS    = "snips"
	NameDR       = "dr"
	NameOnPolicy = "on_policy"
)

// Options tune the estimators. The zero value is: no clipping, 95% normal-approximation
// intervals, no bootstrap, seed 0, 5 cross-fitting folds and ShrunkMean as DR's direct model.
type Options struct {
	// Clip is λ, the largest importance weight: larger weights are set to λ. 0 turns clipping off.
	Clip float64
	// Level is the confidence level of the intervals, in (0, 1); 0 means 0.95.
	Level float64
	// Bootstrap is the number of percentile-bootstrap resamples; 0 for none.
	Bootstrap int
	// Seed seeds the cross-fitting folds and the bootstrap.
	Seed uint64
	// Folds is the number of cross-fitting folds of DR's direct model (at least 2); 0 means 5.
	Folds int
	// Model is DR's direct model; nil means ShrunkMean{}.
	Model RewardModel
	// Logger receives debug lines (folds fitted, bootstrap resamples skipped); slog.Default()
	// when nil.
	Logger *slog.Logger
}

// DefaultLevel and DefaultFolds are what a zero Options.Level and Options.Folds mean.
const (
	DefaultLevel = 0.95
	DefaultFolds = 5
)

func (o Options) withDefaults() (Options, error) {
	if math.IsNaN(o.Clip) || o.Clip < 0 {
		return o, fmt.Errorf("ope: clip must be 0 (off) or positive, got %g", o.Clip)
	}
	if o.Level == 0 {
		o.Level = DefaultLevel
	}
	if !(o.Level > 0 && o.Level < 1) {
		return o, fmt.Errorf("ope: level must be in (0, 1), got %g", o.Level)
	}
	if o.Bootstrap < 0 {
		return o, fmt.Errorf("ope: bootstrap resamples must not be negative, got %d", o.Bootstrap)
	}
	if o.Folds == 0 {
		o.Folds = DefaultFolds
	}
	if o.Folds < 2 {
		return o, fmt.Errorf("ope: cross-fitting needs at least 2 folds, got %d", o.Folds)
	}
	if o.Model == nil {
		o.Model = ShrunkMean{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Interval is a confidence interval [Lo, Hi]. It encodes in JSON as [lo, hi].
type Interval struct{ Lo, Hi float64 }

// Contains reports whether v lies in the closed interval.
func (iv Interval) Contains(v float64) bool { return v >= iv.Lo && v <= iv.Hi }

// Width is Hi − Lo.
func (iv Interval) Width() float64 { return iv.Hi - iv.Lo }

// MarshalJSON writes [lo, hi].
func (iv Interval) MarshalJSON() ([]byte, error) { return json.Marshal([2]float64{iv.Lo, iv.Hi}) }

// UnmarshalJSON reads [lo, hi].
func (iv *Interval) UnmarshalJSON(b []byte) error {
	var a [2]float64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	iv.Lo, iv.Hi = a[0], a[1]
	return nil
}

// Estimate is one estimator's result.
type Estimate struct {
	// Estimator is NameIPS, NameSNIPS, NameDR or NameOnPolicy.
	Estimator string `json:"estimator"`
	// Value is the estimated expected reward per row.
	Value float64 `json:"value"`
	// CI is the normal-approximation interval at Level: Value ± z·StdErr.
	CI     Interval `json:"ci"`
	StdErr float64  `json:"std_err"`
	Level  float64  `json:"level"`
	// Bootstrap is the percentile-bootstrap interval at Level, when Options.Bootstrap > 0.
	Bootstrap *Interval `json:"bootstrap_ci,omitempty"`
	// N is the number of rows.
	N int `json:"n"`
	// ESS is the effective sample size of the importance weights, (Σw)²/Σw² (Kish), MaxWeight
	// the largest weight before clipping and Clipped the number of weights clipped. They are
	// zero for an on-policy estimate.
	ESS       float64 `json:"ess,omitempty"`
	MaxWeight float64 `json:"max_weight,omitempty"`
	Clipped   int     `json:"clipped,omitempty"`
}

// ErrNoSupport is returned by SNIPS when the evaluated policy gives probability 0 to every
// logged action (or every weight is 0), so the estimate is 0/0.
var ErrNoSupport = errors.New("ope: the evaluated policy gives probability 0 to every logged action")
