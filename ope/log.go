package ope

import (
	"errors"
	"fmt"
	"math"
)

// Row is one logged decision.
type Row struct {
	// Context holds the context's features (nil when the policies and the model ignore it).
	Context []float64
	// Action is the logged action, in [0, Log.Actions).
	Action int
	// Position is the slot the action was shown in, in [0, Log.Positions); 0 for a plain bandit.
	Position int
	// Reward is the observed reward (a click is 1, no click 0).
	Reward float64
	// Propensity is the logging policy's probability of Action for this context and Position,
	// in (0, 1].
	Propensity float64
}

// Log is a logged bandit data set.
type Log struct {
	// Actions is the number of actions; every Row.Action is below it.
	Actions int
	// Positions is the number of positions (slots); 1 for a plain bandit.
	Positions int
	Rows      []Row
}

// RowError is a row of a Log, or a value a Policy returned for it, that cannot be used: Row is
// its index in Log.Rows and Field names the value at fault.
type RowError struct {
	Row   int
	Field string
	Err   error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %s: %v", e.Row, e.Field, e.Err) }

func (e *RowError) Unwrap() error { return e.Err }

// ErrEmpty is returned for a log with fewer rows than an estimate needs.
var ErrEmpty = errors.New("ope: too few rows")

// Validate checks the log's shape and every row, returning a *RowError for the first bad row.
func (l *Log) Validate() error {
	if l == nil {
		return errors.New("ope: nil log")
	}
	if l.Actions <= 0 {
		return fmt.Errorf("ope: log has %d actions, want at least 1", l.Actions)
	}
	if l.Positions <= 0 {
		return fmt.Errorf("ope: log has %d positions, want at least 1", l.Positions)
	}
	dim := -1
	for i := range l.Rows {
		r := &l.Rows[i]
		switch {
		case r.Action < 0 || r.Action >= l.Actions:
			return &RowError{i, "action", fmt.Errorf("%d is outside [0, %d)", r.Action, l.Actions)}
		case r.Position < 0 || r.Position >= l.Positions:
			return &RowError{i, "position", fmt.Errorf("%d is outside [0, %d)", r.Position, l.Positions)}
		case math.IsNaN(r.Reward) || math.IsInf(r.Reward, 0):
			return &RowError{i, "reward", fmt.Errorf("%g is not a finite number", r.Reward)}
		case !(r.Propensity > 0 && r.Propensity <= 1):
			return &RowError{i, "propensity", fmt.Errorf("%g is outside (0, 1]", r.Propensity)}
		}
		if dim < 0 {
			dim = len(r.Context)
		} else if len(r.Context) != dim {
			return &RowError{i, "context", fmt.Errorf("%d features, row 0 has %d", len(r.Context), dim)}
		}
		for j, v := range r.Context {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return &RowError{i, "context", fmt.Errorf("feature %d is %g", j, v)}
			}
		}
	}
	return nil
}

// ContextDim is the number of context features per row (0 for an empty log).
func (l *Log) ContextDim() int {
	if len(l.Rows) == 0 {
		return 0
	}
	return len(l.Rows[0].Context)
}
