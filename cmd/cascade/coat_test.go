package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/coat"
)

// coatWorld writes a small Coat-shaped data set.
func coatWorld(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := coat.WriteSynthetic(dir, coat.Synthetic{Users: 30, Items: 20, TrainPerUser: 6, TestPerUser: 4, Selection: 0.8, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// smallCoatFiles writes the shipped Coat files with a small grid (their own grids are checked by
// examples/examples_test.go; searching them here would cost seconds).
func smallCoatFiles(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for _, name := range []string{"coat-naive.yaml", "coat-ips.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(b), "factors: [10, 20, 40]", "factors: [2, 4]", 1)
		if text == string(b) {
			t.Fatalf("%s: no factors grid to shrink", name)
		}
		files = append(files, filepath.Join(dir, name))
		if err := os.WriteFile(files[len(files)-1], []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// TestReplayCoat runs the shipped Coat files (with a small grid) through replay, and the coat
// command that puts them side by side.
func TestReplayCoat(t *testing.T) {
	data := coatWorld(t)
	files := smallCoatFiles(t)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.json")
			stdout, errs, code := runCLI(t, "--quiet", "replay", "--config", file, "--data", data, "--json", out)
			if code != 0 {
				t.Fatalf("code %d: %s", code, errs)
			}
			var rep struct {
				Protocol string             `json:"protocol"`
				Ratings  map[string]float64 `json:"ratings"`
			}
			readJSON(t, out, &rep)
			if rep.Protocol != "ratings-mar" || !(rep.Ratings["mse"] > 0) || !(rep.Ratings["mae"] > 0) || rep.Ratings["n"] != 30*4 {
				t.Fatalf("report %+v", rep)
			}
			if !strings.Contains(stdout, "test MSE") {
				t.Fatalf("table: %q", stdout)
			}
		})
	}
	out := filepath.Join(t.TempDir(), "coat.json")
	stdout, errs, code := runCLI(t, "--quiet", "coat", "--data", data, "--json", out, "--seed", "3", "--config", strings.Join(files, ","))
	if code != 0 {
		t.Fatalf("coat: code %d: %s", code, errs)
	}
	var both map[string]struct {
		Ratings map[string]float64 `json:"ratings"`
	}
	readJSON(t, out, &both)
	if !(both["naive"].Ratings["mse"] > 0) || !(both["ips"].Ratings["mse"] > 0) || !strings.Contains(stdout, "paper MSE") {
		t.Fatalf("coat: %+v\n%s", both, stdout)
	}
}

func TestReplayCoatMismatch(t *testing.T) {
	data := coatWorld(t)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"coat file on no data", []string{"replay", "--config", "coat-ips.yaml", "--data", t.TempDir()}, "reads Coat's rating matrices"},
		{"ranking file on Coat", []string{"replay", "--config", "ials.yaml", "--data", data, "--models", t.TempDir()}, "is Coat"},
		{"ranking file without models", []string{"replay", "--config", "ials.yaml", "--data", data}, "--models is required"},
		{"mixed comparison", []string{"replay", "--compare", "coat-ips.yaml,ials.yaml", "--data", data, "--models", t.TempDir()}, "like with like"},
		{"coat file trained", []string{"train", "--config", "coat-ips.yaml", "--data", data, "--out", t.TempDir()}, "is a ratings file"},
		{"coat command on no data", []string{"coat", "--data", t.TempDir()}, "no known files"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, errs, code := runCLI(t, append([]string{"--quiet"}, c.args...)...); code == 0 || !strings.Contains(errs, c.want) {
				t.Fatalf("code %d, stderr %q, want %q", code, errs, c.want)
			}
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
