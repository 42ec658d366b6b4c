package synth_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cascade-rec/cascade/synth"
)

// Regenerating the committed world with the command in testdata/README.md gives the same bytes.
func TestCommittedWorldIsReproducible(t *testing.T) {
	cfg := synth.DefaultConfig()
	cfg.Users, cfg.Items, cfg.Events, cfg.Impressions, cfg.Seed = 60, 80, 2000, 30, 7
	w, err := synth.Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := w.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{synth.EventsFile, synth.ItemsFile, synth.UsersFile, synth.ImpressionsFile, synth.TruthFile} {
		got, err1 := os.ReadFile(filepath.Join(dir, name))
		want, err2 := os.ReadFile(filepath.Join("..", "testdata", "world", name))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from testdata/world/%s: regenerate it (testdata/README.md) if the change is intended", name, name)
		}
	}
}
