package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/pipeline"
)

// TestReplaySampleAndCosts: train prints and records what each stage cost; replay --sample adds
// the sample and the intervals to the JSON beside every key of the full replay, and prints them.
func TestReplaySampleAndCosts(t *testing.T) {
	dir := t.TempDir()
	world := filepath.Join(dir, "world")
	if _, errs, code := runCLI(t, "gen", "--out", world, "--users", "300", "--items", "250", "--events", "12000", "--impressions", "0", "--seed", "5"); code != 0 {
		t.Fatalf("gen: %s", errs)
	}
	bundle := filepath.Join(dir, "bundle")
	out, errs, code := runCLI(t, "train", "--config", "ials.yaml", "--data", world, "--out", bundle)
	if code != 0 {
		t.Fatalf("train: %s", errs)
	}
	for _, want := range []string{"peak RSS MB", "load data", "tune ials", "refit ials"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	man, err := pipeline.ReadManifest(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var stages []string
	for _, c := range man.Costs {
		stages = append(stages, c.Stage)
		if c.WallSeconds < 0 || c.CPUSeconds < 0 || c.PeakRSSMB <= 0 {
			t.Errorf("stage cost %+v", c)
		}
	}
	if !slices.Equal(stages, []string{"split", "tune ials", "refit ials", "fallback"}) {
		t.Errorf("manifest stages %v", stages)
	}

	replayJSON := func(name string, extra ...string) (map[string]any, string) {
		t.Helper()
		path := filepath.Join(dir, name)
		out, errs, code := runCLI(t, append([]string{"replay", "--config", "ials.yaml", "--data", world, "--models", bundle, "--json", path}, extra...)...)
		if code != 0 {
			t.Fatalf("replay %v: %s", extra, errs)
		}
		var m map[string]any
		data, err := os.ReadFile(path)
		if err != nil || json.Unmarshal(data, &m) != nil {
			t.Fatalf("replay JSON %s: %v", path, err)
		}
		return m, out
	}
	full, fullOut := replayJSON("full.json")
	part, partOut := replayJSON("part.json", "--sample", "300", "--seed", "2")
	for k := range full {
		if _, ok := part[k]; !ok {
			t.Errorf("sampled JSON lacks %q", k)
		}
	}
	if _, ok := full["ci"]; ok || strings.Contains(fullOut, "sampled") {
		t.Errorf("an unsampled replay reports a sample")
	}
	sample, _ := part["sample"].(map[string]any)
	ci, _ := part["ci"].(map[string]any)
	metrics, _ := ci["metrics"].(map[string]any)
	if sample["steps"] != 300.0 || sample["seed"] != 2.0 || len(metrics) == 0 || metrics["ndcg@10"] == nil {
		t.Fatalf("sample %v, ci %v", sample, ci)
	}
	if !strings.Contains(partOut, "300 of ") || !strings.Contains(partOut, "ndcg@10") {
		t.Errorf("sampled table:\n%s", partOut)
	}
	if _, errs, code := runCLI(t, "replay", "--config", "ials.yaml", "--data", world, "--models", bundle, "--sample=-5"); code == 0 || !strings.Contains(errs, "--sample must be a positive number") {
		t.Errorf("--sample=-5: code %d, %s", code, errs)
	}
}
