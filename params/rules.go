package params

import (
	"fmt"
	"math"
)

// The rules below are the common checks of a Validate method, each with the one wording every
// model uses. A Validate lists them, one per field in the file's order, inside First:
//
//	return params.First(
//		params.IntIn("dim", p.Dim, 1, 4096),
//		params.Positive("learning_rate", p.LearningRate),
//		params.Check(p.BatchSize >= 2, "batch_size", p.BatchSize, "be ≥ 2 (in-batch negatives need company)"),
//	)

// First returns the first error that is not nil: the first broken rule is the one reported.
func First(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Check is the Must error of field when ok is false, and nil otherwise: a rule with its own
// wording.
func Check(ok bool, field string, v any, must string) error {
	if ok {
		return nil
	}
	return Must(field, v, must)
}

// IntIn is the rule lo ≤ v ≤ hi: "must be in [lo, hi]".
func IntIn(field string, v, lo, hi int) error {
	if v >= lo && v <= hi {
		return nil
	}
	return Must(field, v, fmt.Sprintf("be in [%d, %d]", lo, hi))
}

// AtLeast is the rule v ≥ lo: "must be ≥ lo".
func AtLeast(field string, v, lo int) error {
	if v >= lo {
		return nil
	}
	return Must(field, v, fmt.Sprintf("be ≥ %d", lo))
}

// Positive is the rule "must be a finite number > 0".
func Positive(field string, v float64) error {
	return Check(Finite(v) && v > 0, field, v, "be a finite number > 0")
}

// NonNegative is the rule "must be a finite number ≥ 0".
func NonNegative(field string, v float64) error {
	return Check(Finite(v) && v >= 0, field, v, "be a finite number ≥ 0")
}

// Finite reports whether x is neither NaN nor infinite.
func Finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// In is the rule that v is one of allowed: nil when it is, else OneOf's error.
func In[S ~string](field string, v S, allowed ...S) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return OneOf(field, v, allowed...)
}
