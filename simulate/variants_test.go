package simulate

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/ope"
	"github.com/cascade-rec/cascade/servedlog"
)

// TestVariantsSideBySide: a pipeline file with variants adds one policy per variant, whose
// round-log lines carry the variant, and the served-log report compares them.
func TestVariantsSideBySide(t *testing.T) {
	tiny, err := os.ReadFile("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "variants.yaml")
	text := string(tiny) + "variants:\n  - {name: control, share: 0.5}\n  - {name: no-rankers, share: 0.5, rankers: []}\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig()
	cfg.Pipeline, cfg.Rounds, cfg.Exploration = file, 1, []string{ExploreNone}
	rep, dir := runTiny(t, cfg)
	for _, p := range []string{"variant-control", "variant-no-rankers"} {
		if !slices.Contains(rep.Policies, p) || !(rep.Rounds[0].Reward[p] > 0) {
			t.Fatalf("policy %s: policies %v, rewards %v", p, rep.Policies, rep.Rounds[0].Reward)
		}
	}
	f, err := os.Open(roundLogName(filepath.Join(dir, "rounds"), 0))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := servedlog.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if want := map[string]string{"variant-control": "control", "variant-no-rankers": "no-rankers"}[e.Policy]; e.Variant != want {
			t.Fatalf("policy %s logged variant %q", e.Policy, e.Variant)
		}
	}
	vr, err := servedlog.CompareVariants(context.Background(), entries, "control", ope.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(vr.Variants) != 2 || vr.Variants[0].Users != cfg.UsersPerRound || vr.Variants[1].DiffCI == nil {
		t.Fatalf("report %+v", vr)
	}
}
