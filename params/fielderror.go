package params

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is an invalid parameter: Path is its YAML key ("alpha", "hidden[1]",
// "models.ials.params.alpha"), Msg what is wrong with it ("must be ≥ 0, got -1").
type FieldError struct {
	Path string
	Msg  string
}

// Error reads "Path: Msg" (just Msg when the path is empty).
func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Errorf returns a FieldError for path with a formatted message.
func Errorf(path, format string, args ...any) error {
	return FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Prefix lifts err from a nested struct into the document that holds it under prefix: every
// FieldError of err, alone or joined (errors.Join), gets the path prefix.path. Other errors are
// returned unchanged; Prefix(p, nil) is nil.
func Prefix(prefix string, err error) error {
	switch e := err.(type) {
	case FieldError:
		e.Path = Join(prefix, e.Path)
		return e
	case interface{ Unwrap() []error }:
		errs := e.Unwrap()
		out := make([]error, len(errs))
		for i, err := range errs {
			out[i] = Prefix(prefix, err)
		}
		return errors.Join(out...)
	}
	return err
}

// Fields lists the FieldErrors in err's tree (joined or wrapped), in order.
func Fields(err error) []FieldError {
	switch e := err.(type) {
	case nil:
		return nil
	case FieldError:
		return []FieldError{e}
	case interface{ Unwrap() []error }:
		var out []FieldError
		for _, err := range e.Unwrap() {
			out = append(out, Fields(err)...)
		}
		return out
	case interface{ Unwrap() error }:
		return Fields(e.Unwrap())
	}
	return nil
}

// Join appends path to prefix as Prefix does: with a dot before a key ("models.ials" + "alpha"),
// without one before an index ("hidden" + "[1]").
func Join(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case strings.HasPrefix(path, "["):
		return prefix + path
	}
	return prefix + "." + path
}
