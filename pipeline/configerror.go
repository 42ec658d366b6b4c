package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cascade-rec/cascade/params"
)

// ConfigError is a problem in a pipeline file, located by file, line and key.
type ConfigError struct {
	File string
	Line int    // 0 when unknown
	Key  string // the YAML path, e.g. "models.ials.params.alpha" or "retrieve.sources[0].k"
	Msg  string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// errorf builds a ConfigError at key, on the line the file gives it (or its nearest ancestor).
func (c *Config) errorf(key, format string, args ...any) error {
	return &ConfigError{File: c.path, Line: c.line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// errAt is errorf with the line taken from a separate go-yaml path ("$.filter.rules[0]").
// Kept for pipeline.go and stack.go, which still call it; new code calls errorf.
func (c *Config) errAt(yamlPath, key, format string, args ...any) error {
	line := c.line(strings.TrimPrefix(strings.TrimPrefix(yamlPath, "$"), "."))
	return &ConfigError{File: c.path, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// located restates a validation error whose params.FieldErrors name keys below prefix as
// ConfigErrors at their lines, joined when there are several. It is nil when err holds no
// FieldError.
func (c *Config) located(prefix string, err error) error {
	var out []error
	for _, fe := range params.Fields(err) {
		out = append(out, c.errorf(params.Join(prefix, fe.Path), "%s", fe.Msg))
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}
