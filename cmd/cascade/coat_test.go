package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCoatRejectsDirWithoutCoat(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--quiet", "coat", "--data", t.TempDir()}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "no Coat files") {
		t.Fatalf("code %d, stderr %q", code, stderr.String())
	}
}

// TestCoatWritesJSON runs the command on the real data set when it is present.
func TestCoatWritesJSON(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "datasets", "coat")
	if _, err := os.Stat(filepath.Join(dir, "train.ascii")); err != nil {
		t.Skipf("Coat not found at %s (../shared/datasets/coat from the repository root); skipping", dir)
	}
	out := filepath.Join(t.TempDir(), "coat.json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--quiet", "coat", "--data", dir, "--json", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("code %d: %s", code, stderr.String())
	}
	var got map[string]map[string]map[string]float64
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	got = map[string]map[string]map[string]float64{}
	for _, k := range []string{"naive", "ips"} {
		var v map[string]map[string]float64
		if err := json.Unmarshal(raw[k], &v); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		got[k] = v
		if m := v["ratings"]["mse"]; !(m > 0 && m < 4) {
			t.Fatalf("%s mse %g", k, m)
		}
	}
	if _, ok := raw["chosen"]; !ok {
		t.Fatal("no chosen key")
	}
	if !strings.Contains(stdout.String(), "naive") {
		t.Fatalf("table: %q", stdout.String())
	}
}
