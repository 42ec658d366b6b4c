package examples_test

import (
	"io/fs"
	"testing"

	"github.com/cascade-rec/cascade/examples"
	"github.com/cascade-rec/cascade/pipeline"
)

// Every shipped pipeline file must parse and validate, grids included.
func TestExamplesParse(t *testing.T) {
	names, err := fs.Glob(examples.Files, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded examples: %v", err)
	}
	for _, name := range names {
		data, _ := examples.Files.ReadFile(name)
		cfg, err := pipeline.ParseConfig(name, data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, m := range cfg.ModelNames() {
			if _, err := cfg.Grid(m); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}
