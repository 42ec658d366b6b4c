package ope

import (
	"errors"
	"fmt"
	"math"
)

// Policy is the policy being evaluated.
type Policy interface {
	// Prob returns π(a | row), the probability that the policy chooses action a for the context
	// and position of r, the log's row i. It must be in [0, 1].
	Prob(i int, r *Row, a int) float64
}

// Distribution is a Policy that can give its whole distribution over actions, as the doubly
// robust estimator needs.
type Distribution interface {
	Policy
	// Dist writes π(· | row) for the log's row i into dst, which has one entry per action. The
	// entries must be in [0, 1] and sum to 1.
	Dist(i int, r *Row, dst []float64)
}

// LogChecker is implemented by policies that know the log shape they fit (number of actions and
// positions); the estimators call CheckLog before asking for any probability.
type LogChecker interface {
	CheckLog(l *Log) error
}

// checkPolicy runs pi's CheckLog when it has one.
func checkPolicy(pi Policy, l *Log) error {
	if pi == nil {
		return errors.New("ope: nil policy")
	}
	if c, ok := pi.(LogChecker); ok {
		if err := c.CheckLog(l); err != nil {
			return fmt.Errorf("ope: policy does not fit the log: %w", err)
		}
	}
	return nil
}

// distTolerance is how far from 1 a Distribution's sum may be.
const distTolerance = 1e-6

// checkProb returns a *RowError when p is not a probability.
func checkProb(i int, a int, p float64) error {
	if !(p >= 0 && p <= 1) {
		return &RowError{i, "policy probability", fmt.Errorf("π(action %d) = %g is outside [0, 1]", a, p)}
	}
	return nil
}

// checkDist returns a *RowError when dist is not a probability distribution.
func checkDist(i int, dist []float64) error {
	s := 0.0
	for a, p := range dist {
		if err := checkProb(i, a, p); err != nil {
			return err
		}
		s += p
	}
	if math.Abs(s-1) > distTolerance {
		return &RowError{i, "policy distribution", fmt.Errorf("sums to %g, want 1", s)}
	}
	return nil
}

// Uniform chooses each of its Actions with the same probability, whatever the context.
type Uniform struct{ Actions int }

// Prob is 1/Actions.
func (u Uniform) Prob(_ int, _ *Row, _ int) float64 { return 1 / float64(u.Actions) }

// Dist fills dst with 1/Actions.
func (u Uniform) Dist(_ int, _ *Row, dst []float64) {
	for a := range dst {
		dst[a] = 1 / float64(u.Actions)
	}
}

// CheckLog checks that the log has the policy's number of actions.
func (u Uniform) CheckLog(l *Log) error {
	if u.Actions != l.Actions {
		return fmt.Errorf("uniform policy over %d actions, log has %d", u.Actions, l.Actions)
	}
	return nil
}

// Table is a context-free policy with one distribution over actions per position:
// Table[k][a] = π(a | position k). Build it with NewTable, which checks it.
type Table [][]float64

// NewTable checks that probs holds, for each of positions positions, a distribution over actions
// actions, and returns it as a Table.
func NewTable(probs [][]float64, actions, positions int) (Table, error) {
	if len(probs) != positions {
		return nil, fmt.Errorf("ope: table has %d positions, want %d", len(probs), positions)
	}
	for k, row := range probs {
		if len(row) != actions {
			return nil, fmt.Errorf("ope: table position %d has %d actions, want %d", k, len(row), actions)
		}
		s := 0.0
		for a, p := range row {
			if !(p >= 0 && p <= 1) {
				return nil, fmt.Errorf("ope: table position %d action %d: probability %g is outside [0, 1]", k, a, p)
			}
			s += p
		}
		if math.Abs(s-1) > distTolerance {
			return nil, fmt.Errorf("ope: table position %d sums to %g, want 1", k, s)
		}
	}
	return Table(probs), nil
}

// Prob is Table[r.Position][a].
func (t Table) Prob(_ int, r *Row, a int) float64 { return t[r.Position][a] }

// Dist copies Table[r.Position] into dst.
func (t Table) Dist(_ int, r *Row, dst []float64) { copy(dst, t[r.Position]) }

// CheckLog checks that the table has the log's numbers of positions and actions.
func (t Table) CheckLog(l *Log) error {
	if len(t) != l.Positions {
		return fmt.Errorf("table has %d positions, log has %d", len(t), l.Positions)
	}
	for k := range t {
		if len(t[k]) != l.Actions {
			return fmt.Errorf("table position %d has %d actions, log has %d", k, len(t[k]), l.Actions)
		}
	}
	return nil
}
