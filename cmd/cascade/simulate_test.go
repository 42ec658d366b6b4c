package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cascade simulate writes the interface issue 13 names: {"rounds": [{"round", "reward",
// "junk_share", "coverage"}]} with the four policies, and the flags override the file.
func TestSimulateCommand(t *testing.T) {
	dir := t.TempDir()
	pipe, err := filepath.Abs("../../simulate/testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sim.yaml")
	yaml := "world: {users: 200, items: 150, events: 4000, impressions: 100}\npipeline: " + pipe +
		"\nrounds: 5\nusers_per_round: 20\nk: 5\ncandidates: 30\nexploration: [none]\nreranker: {trees: 10, min_data_in_leaf: 5, leaves: 7, learning_rate: 0.1}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sim.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--quiet", "simulate", "--config", cfg, "--rounds", "2", "--seed", "3", "--json", out, "--out", filepath.Join(dir, "run")}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Config struct {
			Seed uint64 `json:"seed"`
		} `json:"config"`
		Rounds []struct {
			Round     int                `json:"round"`
			Reward    map[string]float64 `json:"reward"`
			JunkShare map[string]float64 `json:"junk_share"`
			Coverage  map[string]float64 `json:"coverage"`
		} `json:"rounds"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != 2 || rep.Config.Seed != 3 {
		t.Fatalf("%d rounds with seed %d, want 2 with seed 3 (the flags override the file)", len(rep.Rounds), rep.Config.Seed)
	}
	for n, r := range rep.Rounds {
		if r.Round != n {
			t.Errorf("round %d is numbered %d", n, r.Round)
		}
		for _, p := range []string{"cascade", "oracle", "popularity", "random"} {
			if _, ok := r.Reward[p]; !ok {
				t.Errorf("round %d: no reward for %s", n, p)
			}
			if _, ok := r.JunkShare[p]; !ok {
				t.Errorf("round %d: no junk share for %s", n, p)
			}
			if _, ok := r.Coverage[p]; !ok {
				t.Errorf("round %d: no coverage for %s", n, p)
			}
		}
	}
	if !strings.Contains(stdout.String(), "cascade/oracle") {
		t.Errorf("no table on stdout:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "rounds", "round-001.jsonl")); err != nil {
		t.Errorf("no served log for round 1: %v", err)
	}
}

func TestSimulateCommandRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "roundz: 3\n", "roundz"},
		{"bad exploration", "exploration: [greedy]\n", "exploration"},
		{"slate above candidates", "k: 20\ncandidates: 10\n", "candidates"},
		{"negative share", "reranker: {random_negatives: -1}\n", "reranker.random_negatives"},
		{"unknown reranker key", "reranker: {random_negativs: 1}\n", "random_negativs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml")
			if err := os.WriteFile(cfg, []byte(tt.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := run([]string{"--quiet", "simulate", "--config", cfg}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q: want a failure naming %q", code, stderr.String(), tt.want)
			}
		})
	}
}
