package schemadiff

import (
	"reflect"
	"testing"
)

func TestCompare(t *testing.T) {
	cases := []struct {
		name         string
		model, given []string
		want         Diff
	}{
		{"equal", []string{"a", "b"}, []string{"a", "b"}, Diff{}},
		{"missing and extra", []string{"a", "b", "c"}, []string{"a", "d"}, Diff{Missing: []string{"b", "c"}, Extra: []string{"d"}}},
		{"moved", []string{"a", "b", "c"}, []string{"a", "c", "b"}, Diff{Moved: []Move{{"b", 1, 2}, {"c", 2, 1}}}},
		{"shifted by a missing name", []string{"a", "b", "c"}, []string{"a", "c"}, Diff{Missing: []string{"b"}, Moved: []Move{{"c", 2, 1}}}},
		{"repeated", []string{"a", "b"}, []string{"a", "b", "b"}, Diff{Moved: []Move{{"b", 1, 2}}}},
		{"empty", nil, nil, Diff{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Compare(c.model, c.given); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Compare(%v, %v) = %+v, want %+v", c.model, c.given, got, c.want)
			}
		})
	}
}
