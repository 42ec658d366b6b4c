package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// train prints parameters as name=value, says which were chosen on validation, and takes
// --skip-malformed for the file's dataset.skip_malformed.
func TestTrainOutputAndSkipMalformed(t *testing.T) {
	dir := t.TempDir()
	world := filepath.Join(dir, "world")
	if _, errs, code := runCLI(t, "--quiet", "gen", "--out", world, "--users", "100", "--items", "80", "--events", "2500", "--impressions", "0", "--seed", "4"); code != 0 {
		t.Fatalf("gen: %s", errs)
	}
	events := filepath.Join(world, "events.csv")
	data, err := os.ReadFile(events)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Count(string(data), "\n")
	os.WriteFile(events, append(data, "u1,i1,yesterday,5\n"...), 0o644)
	cfgPath := filepath.Join(dir, "p.yaml")
	os.WriteFile(cfgPath, []byte(protocolPipeline), 0o644)

	_, errs, code := runCLI(t, "--quiet", "train", "--config", cfgPath, "--data", world, "--out", filepath.Join(dir, "m"))
	if want := "events.csv:" + strconv.Itoa(lines+1) + ": field timestamp"; code == 0 || !strings.Contains(errs, want) {
		t.Fatalf("malformed row: %d %s (want %q)", code, errs, want)
	}
	out, errs, code := runCLI(t, "train", "--skip-malformed", "--config", cfgPath, "--data", world, "--out", filepath.Join(dir, "m"))
	if code != 0 {
		t.Fatalf("train --skip-malformed: %s", errs)
	}
	if !strings.Contains(errs, "skipped malformed rows") || !strings.Contains(errs, "rows=1") {
		t.Errorf("no skip report in the log:\n%s", errs)
	}
	if strings.Contains(out, "map[") || !strings.Contains(out, "factors=8") || !strings.Contains(out, "(best of 2 on the validation split by ndcg@10)") {
		t.Errorf("train output:\n%s", out)
	}
	// replay and serve take the flag too: without it the row stops them, with it they go on (serve
	// up to its refusal of a public admin address).
	bundle := filepath.Join(dir, "m")
	for _, c := range []struct {
		args     []string
		goesOnTo string
	}{
		{[]string{"replay", "--config", cfgPath, "--data", world, "--models", bundle}, ""},
		{[]string{"serve", "--data", world, "--models", bundle, "--addr", "127.0.0.1:0", "--admin-addr", "0.0.0.0:9999", "--state", t.TempDir()}, "not loopback"},
	} {
		if _, errs, code := runCLI(t, append([]string{"--quiet"}, c.args...)...); code == 0 || !strings.Contains(errs, "field timestamp") {
			t.Errorf("%s without --skip-malformed: %d %s", c.args[0], code, errs)
		}
		_, errs, code := runCLI(t, append([]string{"--quiet", c.args[0], "--skip-malformed"}, c.args[1:]...)...)
		// The skipped row is named in the log (a warning), not an error.
		if c.goesOnTo == "" && code != 0 || c.goesOnTo != "" && (code == 0 || !strings.Contains(errs, c.goesOnTo)) || !strings.Contains(errs, "skipped a malformed row") || !strings.Contains(errs, "field timestamp") {
			t.Errorf("%s --skip-malformed: %d %s", c.args[0], code, errs)
		}
	}
}
