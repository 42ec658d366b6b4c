package openbandit

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/ope"
)

var quiet = slog.New(slog.DiscardHandler)

func TestEvaluateSynthetic(t *testing.T) {
	dir := t.TempDir()
	writeSynthOBD(t, dir, 20000, 1)
	names, err := Campaigns(dir)
	if err != nil || len(names) != 1 || names[0] != "synth" {
		t.Fatalf("campaigns %v, %v", names, err)
	}
	c, err := LoadCampaign(dir, "synth")
	if err != nil {
		t.Fatal(err)
	}
	if c.Items != 5 || len(c.Random) != 20000 || len(c.BTS) != 20000 {
		t.Fatalf("loaded %d items, %d random, %d bts rows", c.Items, len(c.Random), len(c.BTS))
	}
	// The frequency estimate of the BTS policy is close to the policy.
	pi, err := FrequencyPolicy(c.BTS, c.Items)
	if err != nil {
		t.Fatal(err)
	}
	for k := range synthBTS {
		for a, p := range synthBTS[k] {
			if math.Abs(pi[k][a]-p) > 0.02 {
				t.Errorf("π̂(%d | position %d) = %g, want ≈ %g", a, k+1, pi[k][a], p)
			}
		}
	}
	res, err := Evaluate(context.Background(), c, Options{Options: ope.Options{Seed: 1, Bootstrap: 100, Logger: quiet}, PolicyResamples: 5})
	if err != nil {
		t.Fatal(err)
	}
	// Each estimate is within 4 standard errors of the exact value (a check that fails by chance
	// about once in 16,000), and the two values are 0.03 apart, many standard errors: swapped
	// directions or positions would be caught. Coverage over seeds is package ope's test.
	for _, tc := range []struct {
		dir   string
		truth float64
	}{{RandomToBTS, synthBTSValue}, {BTSToRandom, synthRandomValue}} {
		d := res[tc.dir]
		for _, e := range append(d.Estimates(), d.OnPolicy) {
			if math.Abs(e.Value-tc.truth) > 4*e.StdErr {
				t.Errorf("%s %s: %g ± %g is more than 4 standard errors from the exact %g", tc.dir, e.Estimator, e.Value, e.StdErr, tc.truth)
			}
			if e.Bootstrap == nil || !(e.Bootstrap.Lo < e.Value && e.Value < e.Bootstrap.Hi) {
				t.Errorf("%s %s: bootstrap interval %v around %g", tc.dir, e.Estimator, e.Bootstrap, e.Value)
			}
			if e.CI.Width() > 0.02 {
				t.Errorf("%s %s: interval %v wider than 0.02", tc.dir, e.Estimator, e.CI)
			}
		}
	}
	if res[RandomToBTS].PolicySD == nil || res[BTSToRandom].PolicySD != nil {
		t.Error("PolicySD belongs to random_to_bts only")
	}
	for j, sd := range res[RandomToBTS].PolicySD {
		if !(sd > 0) || sd > res[RandomToBTS].Estimates()[j].StdErr {
			t.Errorf("policy sd %g of estimator %d against std err %g", sd, j, res[RandomToBTS].Estimates()[j].StdErr)
		}
	}
	// Windowed estimation of a policy that did not change gives the same answer within noise.
	resW, err := Evaluate(context.Background(), c, Options{Options: ope.Options{Seed: 1, Logger: quiet}, Windows: 4})
	if err != nil {
		t.Fatal(err)
	}
	if e := resW[RandomToBTS].DR; math.Abs(e.Value-synthBTSValue) > 4*e.StdErr {
		t.Errorf("4 windows: DR %g ± %g, exact %g", e.Value, e.StdErr, synthBTSValue)
	}
}

func TestDirectionJSON(t *testing.T) {
	dir := t.TempDir()
	writeSynthOBD(t, dir, 600, 2)
	c, err := LoadCampaign(dir, "synth")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Evaluate(context.Background(), c, Options{Options: ope.Options{Seed: 1, Logger: quiet}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]map[string]Direction{"synth": res})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{RandomToBTS, BTSToRandom} {
		m := got["synth"][d]
		var on float64
		if err := json.Unmarshal(m["on_policy"], &on); err != nil || on != res[d].OnPolicy.Value {
			t.Errorf("%s on_policy %s, want %g", d, m["on_policy"], res[d].OnPolicy.Value)
		}
		for _, name := range []string{"ips", "snips", "dr"} {
			var e struct {
				Value  float64    `json:"value"`
				CI     [2]float64 `json:"ci"`
				Covers bool       `json:"covers_on_policy"`
			}
			if err := json.Unmarshal(m[name], &e); err != nil {
				t.Fatalf("%s %s: %v in %s", d, name, err, m[name])
			}
			if e.CI[0] > e.Value || e.CI[1] < e.Value || e.Covers != (e.CI[0] <= on && on <= e.CI[1]) {
				t.Errorf("%s %s: %+v with on-policy %g", d, name, e, on)
			}
		}
	}
}

func TestReadLogErrorsNameFileLineField(t *testing.T) {
	const header = ",timestamp,item_id,position,click,propensity_score,user_feature_0\n"
	const good = "0,2019-11-24 00:03:13.442536+00:00,3,1,0,0.2,abc\n"
	tests := []struct {
		name, body, field string
		line              int
	}{
		{"bad timestamp", "0,yesterday,3,1,0,0.2,abc\n", "timestamp", 3},
		{"item out of range", "0,2019-11-24 00:03:13.442536+00:00,5,1,0,0.2,abc\n", "item_id", 3},
		{"item not a number", "0,2019-11-24 00:03:13.442536+00:00,x,1,0,0.2,abc\n", "item_id", 3},
		{"position 0", "0,2019-11-24 00:03:13.442536+00:00,3,0,0,0.2,abc\n", "position", 3},
		{"position 4", "0,2019-11-24 00:03:13.442536+00:00,3,4,0,0.2,abc\n", "position", 3},
		{"click 2", "0,2019-11-24 00:03:13.442536+00:00,3,1,2,0.2,abc\n", "click", 3},
		{"zero propensity", "0,2019-11-24 00:03:13.442536+00:00,3,1,0,0,abc\n", "propensity_score", 3},
		{"propensity NaN", "0,2019-11-24 00:03:13.442536+00:00,3,1,0,NaN,abc\n", "propensity_score", 3},
		{"propensity text", "0,2019-11-24 00:03:13.442536+00:00,3,1,0,high,abc\n", "propensity_score", 3},
		{"missing field", "0,2019-11-24 00:03:13.442536+00:00,3,1,0,0.2\n", "", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "men.csv")
			if err := os.WriteFile(path, []byte(header+good+tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadLog(path, 5)
			var pe *dataset.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *dataset.ParseError", err)
			}
			if pe.File != path || pe.Line != tc.line || pe.Field != tc.field {
				t.Errorf("%s:%d field %q, want line %d field %q (%v)", pe.File, pe.Line, pe.Field, tc.line, tc.field, err)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "men.csv")
	if err := os.WriteFile(path, []byte(",timestamp,item_id,position,click\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var pe *dataset.ParseError
	if _, err := ReadLog(path, 5); !errors.As(err, &pe) || pe.Field != "propensity_score" || pe.Line != 1 {
		t.Errorf("missing column: %v", err)
	}
	if err := os.WriteFile(path, []byte(header), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLog(path, 5); err == nil || !strings.Contains(err.Error(), "no impressions") {
		t.Errorf("header only: %v", err)
	}
}

func TestReadItemCount(t *testing.T) {
	for _, tc := range []struct {
		body string
		n    int
	}{
		{",item_id,f\n0,0,a\n1,1,b\n2,2,c\n", 3},
		{",item_id,f\n0,1,a\n1,0,b\n", 2},
		{",item_id,f\n0,0,a\n1,0,b\n", 0},
		{",item_id,f\n0,0,a\n1,2,b\n", 0},
		{",item_id,f\n0,x,a\n", 0},
		{",f\n0,a\n", 0},
	} {
		path := filepath.Join(t.TempDir(), "item_context.csv")
		if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		n, err := ReadItemCount(path)
		if tc.n > 0 && (err != nil || n != tc.n) {
			t.Errorf("%q: %d, %v; want %d", tc.body, n, err, tc.n)
		}
		if tc.n == 0 && err == nil {
			t.Errorf("%q accepted (%d items)", tc.body, n)
		}
	}
}

func TestCheckRandom(t *testing.T) {
	c := &Campaign{Items: 4, Random: []Record{{Propensity: 0.25}, {Propensity: 0.2}}}
	if err := c.CheckRandom(); !errors.Is(err, ErrNotUniform) {
		t.Errorf("propensity 0.2 of 4 items: %v", err)
	}
	c.Random[1].Propensity = 0.25
	if err := c.CheckRandom(); err != nil {
		t.Error(err)
	}
}

func TestCampaignsMissing(t *testing.T) {
	if _, err := Campaigns(t.TempDir()); err == nil {
		t.Error("empty directory accepted")
	}
	dir := t.TempDir()
	writeSynthOBD(t, dir, 10, 1)
	if err := os.Remove(filepath.Join(dir, PolicyBTS, "synth", "synth.csv")); err != nil {
		t.Fatal(err)
	}
	if _, err := Campaigns(dir); err == nil {
		t.Error("a campaign without its BTS log was listed")
	}
}

func TestWindows(t *testing.T) {
	dir := t.TempDir()
	writeSynthOBD(t, dir, 70, 1)
	c, err := LoadCampaign(dir, "synth")
	if err != nil {
		t.Fatal(err)
	}
	w := SpanOf(7, c.Random, c.BTS)
	counts := make([]int, 7)
	for _, r := range c.Random {
		counts[w.Of(r.Time)]++
	}
	for i, n := range counts {
		if n != 10 {
			t.Errorf("window %d has %d of 70 evenly spread rows, want 10", i, n)
		}
	}
	if w.Of(w.From.Add(-1)) != 0 || w.Of(w.To.Add(1)) != 6 {
		t.Error("times outside the span are not clamped")
	}
	// 70 rows cut in 30 windows leave some window without a position: an error, not a panic.
	if _, err := NewWindowPolicy(c.BTS, c.Random, c.Items, SpanOf(30, c.BTS)); err == nil {
		t.Error("windows without impressions accepted")
	}
}
