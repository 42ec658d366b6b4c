package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/cascade-rec/cascade/synth"
)

func runGen(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"--no-progress", "--quiet", "gen"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestGenWritesWorld(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "world")
	out, errs, code := runGen(t, "--out", dir, "--users", "120", "--items", "150", "--events", "3000",
		"--impressions", "50", "--seed", "3", "--genres", "6", "--factors", "8", "--days", "200")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "3000 events") {
		t.Errorf("stdout %q does not report the events", out)
	}
	for _, name := range []string{synth.EventsFile, synth.ItemsFile, synth.UsersFile, synth.TruthFile, synth.ImpressionsFile, synth.ReadmeFile} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	tr, err := synth.ReadTruth(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	c := tr.Config
	if c.Users != 120 || c.Items != 150 || c.Events != 3000 || c.Seed != 3 || c.Genres != 6 || c.Factors != 8 || c.Days != 200 || c.Impressions != 50 {
		t.Errorf("the flags did not reach the config: %+v", c)
	}
	events, err := os.ReadFile(filepath.Join(dir, synth.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(events, []byte("\n")); lines != 3001 {
		t.Errorf("events.csv has %d lines, want 3001", lines)
	}
}

func TestGenFlagValidation(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--users", "0"}, "--users"},
		{[]string{"--users", "-5"}, "--users"},
		{[]string{"--items", "0"}, "--items"},
		{[]string{"--events", "0"}, "--events"},
		{[]string{"--genres", "0"}, "--genres"},
		{[]string{"--factors", "0"}, "--factors"},
		{[]string{"--days", "0"}, "--days"},
		{[]string{"--impressions", "-1"}, "--impressions"},
		{[]string{"--drift", "1.5"}, "--drift"},
		{[]string{"--zipf", "-1"}, "--zipf"},
		{[]string{"--short-term", "2"}, "--short-term"},
		{[]string{"--new-items", "1"}, "--new-items"},
		{[]string{"--users", "2", "--items", "10", "--events", "100"}, "--events"},
	} {
		_, errs, code := runGen(t, append([]string{"--out", dir}, tc.args...)...)
		if code == 0 {
			t.Errorf("%v: accepted", tc.args)
			continue
		}
		if !strings.Contains(errs, tc.flag) {
			t.Errorf("%v: error %q does not name %s", tc.args, errs, tc.flag)
		}
	}
	if _, errs, code := runGen(t); code == 0 || !strings.Contains(errs, "--out") {
		t.Errorf("without --out: exit %d, %q", code, errs)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("rejected runs wrote %d files", len(entries))
	}
}

// TestGenDefaults keeps the flag defaults in step with synth.DefaultConfig.
func TestGenDefaults(t *testing.T) {
	var c cli
	parser, err := kong.New(&c, kong.Name("cascade"), gbdtDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse([]string{"gen", "--out", t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	got, want := c.Gen.config(), synth.DefaultConfig()
	if got != want {
		t.Errorf("gen's defaults give\n%+v\nwant synth.DefaultConfig()\n%+v", got, want)
	}
}
