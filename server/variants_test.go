package server

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/servedlog"
)

// TestVariantsServed serves a file with two variants from the ranked fixture's bundle: each
// answer and each served-log line names the variant its user hashes to, and the variant without
// rankers runs no ranker stage.
func TestVariantsServed(t *testing.T) {
	f := ranked(t)
	cfg, err := pipeline.ParseConfig("variants.yaml", []byte(rankedPipeline+`variants:
  - {name: control, share: 0.5}
  - {name: no-rankers, share: 0.5, rankers: []}
`))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "served.jsonl")
	fv := *f
	fv.cfg = cfg
	s := newServer(t, &fv, func(c *Config) { c.ServedLog = ServedLogConfig{Path: path} })
	want := map[string]string{} // request id → variant
	seen := map[string]int{}
	for u := range 40 {
		user := f.ds.Users.String(int32(u))
		var resp recommendResponse
		do(t, s.Handler(), "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user, "k": 5}), &resp)
		if resp.Variant != cfg.VariantOf(user) || resp.Variant == "" {
			t.Fatalf("user %s: variant %q, want %q", user, resp.Variant, cfg.VariantOf(user))
		}
		ranked := false
		for _, st := range resp.Stages {
			ranked = ranked || st.Name == "lgbm"
		}
		if ranked != (resp.Variant == "control") && !resp.Fallback && !resp.Degraded {
			t.Fatalf("variant %s: stages %+v", resp.Variant, resp.Stages)
		}
		want[resp.RequestID] = resp.Variant
		seen[resp.Variant]++
	}
	if seen["control"] == 0 || seen["no-rankers"] == 0 {
		t.Fatalf("variants served: %v", seen)
	}
	s.Close()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	lines := 0
	for sc := bufio.NewScanner(file); sc.Scan(); lines++ {
		var e servedlog.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Variant != want[e.RequestID] {
			t.Fatalf("logged variant %q for %s, answered %q", e.Variant, e.RequestID, want[e.RequestID])
		}
	}
	if lines != len(want) {
		t.Fatalf("%d lines logged, %d answers", lines, len(want))
	}
}

// A variant whose ranker would read features its sources no longer compute is refused when the
// bundle is opened, naming the variant.
func TestVariantIncompatibleWithBundle(t *testing.T) {
	f := ranked(t)
	cfg, err := pipeline.ParseConfig("variants.yaml", []byte(rankedPipeline+`variants:
  - {name: control, share: 0.5}
  - {name: ials-only, share: 0.5, sources: [{model: ials, k: 60}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.Open(cfg, f.bundle, f.ds); err == nil || !strings.Contains(err.Error(), "variant ials-only") {
		t.Fatalf("err = %v", err)
	}
}
