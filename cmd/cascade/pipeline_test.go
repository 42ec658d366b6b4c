package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cliPipeline = `name: %s
models:
  ials:
    type: ials
    params: {factors: 8, alpha: 2, reg: 3, iterations: 5, solver: cg}
  pop:
    type: popularity
retrieve:
  sources:
    - {model: ials, k: 60}
    - {model: pop, k: 20}
features: {}
rankers:
  - {name: lgbm, type: lightgbm, params: {trees: 15, min_data_in_leaf: 10}%s}
ranking_data: {max_requests: 400, negatives: 30}
final: {k: 20}
`

// The whole command-line contract on a small world: gen → export-ltr → gbdt train on the exported
// data → a pipeline that uses that model.txt → train → replay (JSON) and compare with a report.
func TestExportTrainReplayCompare(t *testing.T) {
	if testing.Short() {
		t.Skip("trains pipelines")
	}
	dir := t.TempDir()
	world := filepath.Join(dir, "world")
	if _, errs, code := runCLI(t, "gen", "--out", world, "--users", "300", "--items", "250", "--events", "12000", "--impressions", "0", "--seed", "5"); code != 0 {
		t.Fatalf("gen: %s", errs)
	}
	cfgA := filepath.Join(dir, "a.yaml")
	os.WriteFile(cfgA, []byte(strings.Replace(strings.Replace(cliPipeline, "%s", "trained", 1), "%s", "", 1)), 0o644)
	ltr := filepath.Join(dir, "ltr")
	out, errs, code := runCLI(t, "export-ltr", "--config", cfgA, "--data", world, "--out", ltr)
	if code != 0 {
		t.Fatalf("export-ltr: %s", errs)
	}
	names, err := os.ReadFile(filepath.Join(ltr, "features.txt"))
	if err != nil || !strings.Contains(out, "requests") {
		t.Fatalf("export-ltr wrote %q, %v", out, err)
	}
	model := filepath.Join(dir, "model.txt")
	if _, errs, code := runCLI(t, "gbdt", "train", "--data", filepath.Join(ltr, "train.tsv"), "--valid", filepath.Join(ltr, "valid.tsv"),
		"--objective", "lambdarank", "--trees", "10", "--min-data-in-leaf", "10",
		"--feature-names", strings.Join(strings.Fields(string(names)), ","), "--out", model); code != 0 {
		t.Fatalf("gbdt train: %s", errs)
	}
	cfgB := filepath.Join(dir, "b.yaml")
	os.WriteFile(cfgB, []byte(strings.Replace(strings.Replace(cliPipeline, "%s", "imported", 1), "%s", ", model: model.txt", 1)), 0o644)
	bundle := filepath.Join(dir, "bundle-b")
	if _, errs, code := runCLI(t, "train", "--config", cfgB, "--data", world, "--out", bundle); code != 0 {
		t.Fatalf("train with an imported LightGBM model: %s", errs)
	}
	report := filepath.Join(dir, "report.json")
	if _, errs, code := runCLI(t, "replay", "--config", cfgB, "--data", world, "--models", bundle, "--json", report); code != 0 {
		t.Fatalf("replay: %s", errs)
	}
	if data, err := os.ReadFile(report); err != nil || !strings.Contains(string(data), `"protocol": "replay-v1"`) || !strings.Contains(string(data), `"lgbm"`) {
		t.Fatalf("replay JSON: %v %.300s", err, data)
	}
	// --compare trains what is missing and writes one table and a report with plots.
	out, errs, code = runCLI(t, "replay", "--compare", cfgA+","+cfgB, "--data", world, "--models", filepath.Join(dir, "runs"), "--report", filepath.Join(dir, "rep"))
	if code != 0 {
		t.Fatalf("compare: %s", errs)
	}
	if !strings.Contains(out, "trained") || !strings.Contains(out, "imported") || !strings.Contains(out, "lgbm recall@100") {
		t.Fatalf("compare table:\n%s", out)
	}
	for _, f := range []string{"report.md", "ndcg.png", "recall.png"} {
		if st, err := os.Stat(filepath.Join(dir, "rep", f)); err != nil || st.Size() == 0 {
			t.Fatalf("report %s: %v", f, err)
		}
	}
	// A model whose features do not match the pipeline's schema is refused with their names.
	bad := filepath.Join(dir, "bad.yaml")
	badYAML := strings.Replace(strings.Replace(cliPipeline, "%s", "bad", 1), "%s", ", model: model.txt", 1)
	badYAML = strings.Replace(badYAML, "features: {}", "features: {params: {features: [log_prior]}}", 1)
	os.WriteFile(bad, []byte(badYAML), 0o644)
	if _, errs, code := runCLI(t, "train", "--config", bad, "--data", world, "--out", filepath.Join(dir, "bad")); code == 0 || !strings.Contains(errs, "model.txt") || !strings.Contains(errs, "score_ials") {
		t.Fatalf("mismatched model accepted: %s", errs)
	}
}
