package features

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSchemaRoundTrip(t *testing.T) {
	x := tinyExtractor(t, tinyLog(), tinyConfig())
	s := x.Schema()
	if s.Version != SchemaVersion || len(s.Names) != x.NumFeatures() {
		t.Fatalf("schema %+v", s)
	}
	path := filepath.Join(t.TempDir(), "features.json")
	if err := SaveSchema(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSchema(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("loaded %+v, saved %+v", got, s)
	}
	if err := got.Check(x.FeatureNames()); err != nil {
		t.Errorf("a schema does not match its own names: %v", err)
	}
	if s.Index("cooc") < 0 || s.Index("nope") != -1 {
		t.Error("Index")
	}
	// The schema is a copy: changing it does not change the extractor.
	s.Names[0] = "changed"
	if x.FeatureNames()[0] == "changed" {
		t.Error("Schema shares the extractor's names")
	}
}

func TestSchemaCheck(t *testing.T) {
	s := Schema{Version: SchemaVersion, Names: []string{"a", "b", "c", "d"}}
	err := s.Check([]string{"a", "c", "b", "x"})
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("error %v is not a *MismatchError", err)
	}
	if !reflect.DeepEqual(me.Missing, []string{"x"}) || !reflect.DeepEqual(me.Extra, []string{"d"}) || len(me.Moved) != 2 {
		t.Errorf("mismatch %+v", me)
	}
	for _, want := range []string{"missing x", "extra d", "moved c (ranker column 1, schema column 2)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := s.Check([]string{"a", "b", "c", "d"}); err != nil {
		t.Error(err)
	}
	cols, err := s.Columns([]string{"d", "a"})
	if err != nil || !reflect.DeepEqual(cols, []int{3, 0}) {
		t.Errorf("Columns: %v, %v", cols, err)
	}
	if _, err := s.Columns([]string{"a", "zz"}); !errors.As(err, &me) || me.Missing[0] != "zz" {
		t.Errorf("Columns of a missing name: %v", err)
	}
	rows := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	if got := Project(nil, rows, 4, cols); !reflect.DeepEqual(got, []float32{4, 1, 8, 5}) {
		t.Errorf("Project: %v", got)
	}
	if got := ProjectFloat64(nil, rows, 4, cols); !reflect.DeepEqual(got, []float64{4, 1, 8, 5}) {
		t.Errorf("ProjectFloat64: %v", got)
	}
	if got := ProjectFloat64(make([]float64, 1, 16), rows, 4, nil); !reflect.DeepEqual(got, []float64{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("ProjectFloat64 of every column: %v", got)
	}
}

func TestSchemaFilesRefused(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"version":  `{"version": 99, "names": ["a"]}`,
		"repeated": `{"version": 1, "names": ["a", "a"]}`,
		"empty":    `{"version": 1, "names": [""]}`,
		"unknown":  `{"version": 1, "names": ["a"], "extra": 1}`,
		"garbage":  `{"version": 1, "names": ["a"`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSchema(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := SaveSchema(filepath.Join(dir, "bad"), Schema{Version: 2}); err == nil {
		t.Error("saved an invalid schema")
	}
}
