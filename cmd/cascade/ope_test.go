package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTinyOBD writes a campaign "tiny" in the Open Bandit layout: 3 items, rows impressions per
// log, the random log uniform and the "bts" log favouring item 2, clicks on item 2 only.
func writeTinyOBD(t *testing.T, dir string, rows int) {
	t.Helper()
	bts := []float64{0.2, 0.2, 0.6}
	for _, policy := range []string{"random", "bts"} {
		d := filepath.Join(dir, policy, "tiny")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "item_context.csv"), []byte(",item_id,item_feature_0\n0,0,a\n1,1,b\n2,2,c\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString(",timestamp,item_id,position,click,propensity_score,user_feature_0\n")
		for i := range rows {
			// Deterministic rows in the policies' proportions: every 5 rows, items 0, 1, 2, 2, 2
			// for bts and 0, 1, 2 cycling for random.
			a, p := i%3, 1.0/3
			if policy == "bts" {
				a = []int{0, 1, 2, 2, 2}[i%5]
				p = bts[a]
			}
			click := 0
			if a == 2 && i%4 == 0 {
				click = 1
			}
			fmt.Fprintf(&b, "%d,2019-11-24 %02d:%02d:00.000000+00:00,%d,%d,%d,%v,u\n", i, i/60%24, i%60, a, i%3+1, click, p)
		}
		if err := os.WriteFile(filepath.Join(d, "tiny.csv"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOPEWritesTableAndJSON(t *testing.T) {
	dir := t.TempDir()
	writeTinyOBD(t, dir, 300)
	out := filepath.Join(t.TempDir(), "ope.json")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--quiet", "--no-progress", "ope", "--data", dir, "--json", out, "--bootstrap", "50", "--policy-resamples", "5"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"random_to_bts", "bts_to_random", "ips", "snips", "dr", "on-policy", "covers"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"random_to_bts", "bts_to_random"} {
		m := res["tiny"][d]
		var on float64
		if err := json.Unmarshal(m["on_policy"], &on); err != nil {
			t.Errorf("%s: on_policy %s: %v", d, m["on_policy"], err)
		}
		for _, e := range []string{"ips", "snips", "dr"} {
			var est struct {
				Value float64    `json:"value"`
				CI    [2]float64 `json:"ci"`
			}
			if err := json.Unmarshal(m[e], &est); err != nil || !(est.CI[0] <= est.Value && est.Value <= est.CI[1]) {
				t.Errorf("%s %s: %s (%v)", d, e, m[e], err)
			}
		}
	}
	// Clicks come from item 2 only, at a rate of 1/4 (rows with i%4 == 0 among item 2's):
	// BTS shows it 60% of the time, random a third, so BTS's logged click rate is higher.
	var bts, rnd float64
	if err := json.Unmarshal(res["tiny"]["random_to_bts"]["on_policy"], &bts); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(res["tiny"]["bts_to_random"]["on_policy"], &rnd); err != nil {
		t.Fatal(err)
	}
	if !(bts > rnd) {
		t.Errorf("on-policy BTS %g, random %g", bts, rnd)
	}
}

func TestOPEFlagsAndDataErrors(t *testing.T) {
	dir := t.TempDir()
	writeTinyOBD(t, dir, 30)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--clip", "-1"}, "--clip"},
		{[]string{"--level", "1"}, "--level"},
		{[]string{"--folds", "1"}, "--folds"},
		{[]string{"--windows", "0"}, "--windows"},
		{[]string{"--campaign", "all"}, "--campaign all"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"--quiet", "ope", "--data", dir}, tc.args...), &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error naming %s", tc.args, code, stderr.String(), tc.want)
		}
	}
	// A malformed row is reported with its file, line and field.
	bad := filepath.Join(dir, "bts", "tiny", "tiny.csv")
	b, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	lines[5] = "4,2019-11-24 00:04:00.000000+00:00,2,1,0,1.5,u"
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--quiet", "ope", "--data", dir}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), bad+":6: field propensity_score") {
		t.Errorf("exit %d, stderr %q; want the file, line 6 and field propensity_score", code, stderr.String())
	}
}
