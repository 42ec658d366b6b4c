package pipeline

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// A decoder error is restated in the file's terms: the key path, what the key takes ("an
// integer", "a number or a list of numbers") and what the file gave, never Go's type names.

// configType is the type the file decodes into; typeAt follows key paths from it.
var configType = reflect.TypeFor[Config]()

// oneOrMoreType is implemented by every OneOrMore.
var oneOrMoreType = reflect.TypeFor[interface{ oneOrMore() }]()

// describe says what a value of type t looks like in YAML.
func describe(t reflect.Type) string {
	one, _ := nouns(t)
	return one
}

// nouns names one value of type t and several of them.
func nouns(t reflect.Type) (one, many string) {
	if t == nil {
		return "a value", "values"
	}
	if t.Implements(oneOrMoreType) {
		o, m := nouns(t.Elem())
		return o + " or a list of " + m, "values or lists of " + m
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nouns(t.Elem())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer", "integers"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer", "non-negative integers"
	case reflect.Float32, reflect.Float64:
		return "a number", "numbers"
	case reflect.String:
		return "a string", "strings"
	case reflect.Bool:
		return "true or false", "booleans"
	case reflect.Slice, reflect.Array:
		_, m := nouns(t.Elem())
		return "a list of " + m, "lists of " + m
	case reflect.Map, reflect.Struct:
		return "a mapping", "mappings"
	}
	return "a value", "values"
}

// renderValue shows a value as decoded from the file into any: strings quoted, collections by kind.
func renderValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprint(v)
}

// renderNode shows a value of the file as renderValue would.
func renderNode(n ast.Node) string {
	switch n := n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode:
		return strconv.Quote(n.Value)
	case *ast.LiteralNode:
		return strconv.Quote(n.Value.Value)
	case *ast.AnchorNode:
		return renderNode(n.Value)
	case *ast.TagNode:
		return n.Start.Value + " " + renderNode(n.Value)
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return n.String()
}

// typeAt is the Go type the value at key path takes when decoded into t (nil when t has no such
// key). Below an interface (a parameter block's values) every path has the interface's type.
func typeAt(t reflect.Type, path string) reflect.Type {
	for _, seg := range segments(path) {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t == nil:
			return nil
		case t.Kind() == reflect.Interface:
			return t
		case strings.HasPrefix(seg, "["):
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil
			}
			t = t.Elem()
		case t.Kind() == reflect.Map:
			t = t.Elem()
		case t.Kind() == reflect.Struct:
			f, ok := fieldByKey(t, seg)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	return t
}

// segments splits "a.b[2].c" into "a", "b", "[2]", "c".
func segments(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.Index(part[1:], "[") + 1
			if i == 0 {
				i = len(part)
			}
			out = append(out, part[:i])
			part = part[i:]
		}
	}
	return out
}

// yamlKey is the key the decoder reads field f from ("" for a field it skips).
func yamlKey(f reflect.StructField) string {
	tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
	if tag == "-" || !f.IsExported() {
		return ""
	}
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

// yamlKeys lists the keys of struct type t (or a pointer to one), in field order; none for any
// other type.
func yamlKeys(t reflect.Type) []string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		if f := t.Field(i); yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}
