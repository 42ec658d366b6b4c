package pipeline

import (
	"fmt"
	"strings"

	"github.com/cascade-rec/cascade/params"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// The file's syntax tree turns a key path ("retrieve.sources[0].k") into a line, and the token of
// a decoder error back into the key path it belongs to.

// yamlNode is one value of the file: its key path, its key (nil for a list element) and the value.
type yamlNode struct {
	path       string
	key, value ast.Node
}

// token is the key's token, or the value's for a list element.
func (n yamlNode) token() *token.Token {
	if n.key != nil {
		return n.key.GetToken()
	}
	return n.value.GetToken()
}

// each calls fn for every value of the file, the root (path "") and parents before children,
// until fn returns false. Like the decoder, it reads the first document only.
func (c *Config) each(fn func(yamlNode) bool) {
	if c.file == nil || len(c.file.Docs) == 0 || c.file.Docs[0].Body == nil {
		return
	}
	body := c.file.Docs[0].Body
	_ = fn(yamlNode{"", nil, body}) && walk(body, "", fn)
}

func walk(n ast.Node, path string, fn func(yamlNode) bool) bool {
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			if !walk(mv, path, fn) {
				return false
			}
		}
	case *ast.MappingValueNode:
		p := params.Join(path, keyText(n.Key))
		return fn(yamlNode{p, n.Key, n.Value}) && walk(n.Value, p, fn)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			if !fn(yamlNode{p, nil, v}) || !walk(v, p, fn) {
				return false
			}
		}
	case *ast.AnchorNode:
		return walk(n.Value, path, fn)
	case *ast.TagNode:
		return walk(n.Value, path, fn)
	}
	return true
}

// keyText is a mapping key as written, without quotes, tag or anchor.
func keyText(k ast.Node) string {
	for inner := unwrap(k); inner != nil; inner = unwrap(k) {
		k = inner
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// line is the line of key in the file, else of its nearest ancestor in the file, else 0.
func (c *Config) line(key string) int {
	for ; key != ""; key = parentKey(key) {
		line := 0
		c.each(func(n yamlNode) bool {
			if n.path == key {
				if tk := n.token(); tk != nil {
					line = tk.Position.Line
				}
				return false
			}
			return true
		})
		if line > 0 {
			return line
		}
	}
	return 0
}

// nodeAt finds the outermost value (with keys, the key) whose token is tk, which comes from the
// decoder's own parse of the same text: tokens are matched by position.
func (c *Config) nodeAt(tk *token.Token, keys bool) (found yamlNode, ok bool) {
	at := func(n ast.Node) bool {
		for n != nil {
			if t := n.GetToken(); t != nil && t.Position.Line == tk.Position.Line && t.Position.Column == tk.Position.Column {
				return true
			}
			n = unwrap(n)
		}
		return false
	}
	c.each(func(n yamlNode) bool {
		if (keys && n.key != nil && at(n.key)) || (!keys && at(n.value)) {
			found, ok = n, true
		}
		return !ok
	})
	return found, ok
}

// unwrap is the value an anchor or tag node carries (nil for any other node).
func unwrap(n ast.Node) ast.Node {
	switch n := n.(type) {
	case *ast.AnchorNode:
		return n.Value
	case *ast.TagNode:
		return n.Value
	}
	return nil
}

// parentKey drops the last key or index of a path: "a.b[2]" → "a.b" → "a" → "".
func parentKey(key string) string {
	if i := strings.LastIndexAny(key, ".["); i >= 0 {
		return key[:i]
	}
	return ""
}
