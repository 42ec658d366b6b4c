package pipeline

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// LoadConfig reads and validates a pipeline file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline file: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses and validates pipeline YAML; path names the source in errors.
func ParseConfig(path string, data []byte) (*Config, error) {
	cfg := new(Config)
	*cfg = defaultConfig()
	cfg.path, cfg.source = path, string(data)
	// Duplicate keys are let through the parse so that checkDuplicates can name their path.
	file, err := parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, cfg.decodeError(err)
	}
	if len(file.Docs) == 0 || file.Docs[0].Body == nil {
		return nil, &ConfigError{File: path, Msg: "the file is empty: a pipeline declares at least models and retrieve.sources"}
	}
	cfg.file = file
	if err := cfg.checkDuplicates(); err != nil {
		return nil, err
	}
	if err := cfg.checkTags(); err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalWithOptions(data, cfg, yaml.Strict()); err != nil {
		return nil, cfg.decodeError(err)
	}
	if cfg.Filter.ExcludeSeen == nil { // an explicit null
		t := true
		cfg.Filter.ExcludeSeen = &t
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decodeError restates a parser or decoder error in the file's terms: the key path, what the key
// takes and what the file gave, and the line — not the Go types the file decodes into.
func (c *Config) decodeError(err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return &ConfigError{File: c.path, Msg: oneLine(err)}
	}
	tk := ye.GetToken()
	out := &ConfigError{File: c.path, Line: tk.Position.Line, Msg: ye.GetMessage()}
	switch ye.(type) {
	case *yaml.UnknownFieldError:
		n, ok := c.nodeAt(tk, true)
		if !ok {
			break
		}
		out.Key, out.Msg = n.path, "unknown key"+didYouMean(keyText(n.key), yamlKeys(typeAt(configType, parentKey(n.path))))
	case *yaml.TypeError, *yaml.OverflowError, *yaml.UnexpectedNodeTypeError:
		want, got := expected(ye), tk.Value
		if n, ok := c.nodeAt(tk, false); ok {
			out.Key, got = n.path, renderNode(n.value)
			if t := typeAt(configType, n.path); t != nil {
				want = describe(t)
			}
		}
		if _, overflow := ye.(*yaml.OverflowError); overflow {
			got = tk.Value + " (out of range)"
		}
		out.Msg = fmt.Sprintf("expected %s, got %s", want, got)
	}
	return out
}

// expected is what a decoder type error wanted, for a value whose path typeAt cannot follow (a
// model named "a.b").
func expected(ye yaml.Error) string {
	switch e := ye.(type) {
	case *yaml.TypeError:
		return describe(e.DstType)
	case *yaml.OverflowError:
		return describe(e.DstType)
	case *yaml.UnexpectedNodeTypeError:
		if e.Expected == ast.SequenceType {
			return "a list"
		}
		return "a " + e.Expected.YAMLName()
	}
	return "another value"
}

// checkDuplicates refuses a key given twice in one mapping.
func (c *Config) checkDuplicates() error {
	first := map[string]int{} // key path → line
	var err error
	c.each(func(n yamlNode) bool {
		if n.key == nil || keyText(n.key) == "<<" {
			return true
		}
		line := n.token().Position.Line
		if l, dup := first[n.path]; dup {
			err = &ConfigError{File: c.path, Line: line, Key: n.path, Msg: fmt.Sprintf("duplicate key (first given on line %d)", l)}
			return false
		}
		first[n.path] = line
		return true
	})
	return err
}

// checkTags refuses a tagged value (`!!int 3`) where a list may stand: the decoder (goccy/go-yaml
// 1.19) takes any tagged node there for a list and panics on one that is not.
func (c *Config) checkTags() error {
	var err error
	c.each(func(n yamlNode) bool {
		tag, ok := n.value.(*ast.TagNode)
		if !ok {
			return true
		}
		if _, seq := tag.Value.(*ast.SequenceNode); seq {
			return true
		}
		if t := typeAt(configType, n.path); t != nil && t.Kind() == reflect.Slice {
			err = c.errorf(n.path, "expected %s, got %s: write the value without the tag %s", describe(t), renderNode(tag), tag.Start.Value)
		}
		return err == nil
	})
	return err
}

// decodeAs strictly decodes v, a value of the file as decoded into any, over dst.
func decodeAs(v, dst any) error {
	raw, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	return yaml.UnmarshalWithOptions(raw, dst, yaml.Strict())
}

// mismatch says why v does not decode into t, pointing into lists: the path below v ("[2]") of
// the element at fault and what was expected there.
func mismatch(t reflect.Type, v any) (sub, msg string) {
	if l, ok := v.([]any); ok && t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		for j, e := range l {
			if decodeAs(e, reflect.New(t.Elem()).Interface()) != nil {
				sub, msg := mismatch(t.Elem(), e)
				return fmt.Sprintf("[%d]%s", j, sub), msg
			}
		}
	}
	return "", fmt.Sprintf("expected %s, got %s", describe(t), renderValue(v))
}

// oneLine is an error's message on one line, without the decoder's source excerpt.
func oneLine(err error) string {
	s := err.Error()
	var ye yaml.Error
	if errors.As(err, &ye) {
		s = ye.GetMessage()
	}
	return strings.Join(strings.Fields(s), " ")
}
