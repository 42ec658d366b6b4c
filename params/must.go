package params

import (
	"fmt"
	"strings"
)

// Must is the error of a parameter that breaks a rule: "must <must>, got <v>". The models'
// Validate methods share it so that their messages read alike.
func Must(field string, v any, must string) error {
	return Errorf(field, "must %s, got %v", must, v)
}

// OneOf is the Must error of a string parameter that is none of allowed:
// `must be "a", "b" or "c", got "x"`.
func OneOf[S ~string](field string, v S, allowed ...S) error {
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = fmt.Sprintf("%q", a)
	}
	list := q[len(q)-1]
	if len(q) > 1 {
		list = strings.Join(q[:len(q)-1], ", ") + " or " + list
	}
	return Must(field, fmt.Sprintf("%q", v), "be "+list)
}

// IntsIn is the Must error of the first element of a list parameter outside [lo, hi], named
// field[i] (e.g. a network's hidden layer widths), or nil when every element is within.
func IntsIn(field string, vs []int, lo, hi int) error {
	for i, v := range vs {
		if v < lo || v > hi {
			return Must(fmt.Sprintf("%s[%d]", field, i), v, fmt.Sprintf("be in [%d, %d]", lo, hi))
		}
	}
	return nil
}
