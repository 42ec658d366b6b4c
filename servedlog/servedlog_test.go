package servedlog

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestFloatWritesNonFiniteAsNull(t *testing.T) {
	b, err := json.Marshal([]Float{1.5, Float(math.NaN()), Float(math.Inf(1)), 0.1})
	if err != nil || string(b) != "[1.5,null,null,0.1]" {
		t.Fatalf("%s %v", b, err)
	}
}

// A server line carries no simulation keys; a simulator line carries them even when zero.
func TestSimulationKeysOnlyWhenSet(t *testing.T) {
	e := Entry{RequestID: "r", Time: time.Unix(0, 0).UTC(), Items: []Item{{ItemID: "i", Position: 1, Score: 2}}}
	b, _ := json.Marshal(e)
	for _, k := range []string{"policy", "round", "expected_reward", "propensity", "clicked", "stages"} {
		if strings.Contains(string(b), `"`+k+`"`) {
			t.Fatalf("server line has %q: %s", k, b)
		}
	}
	round, reward, prop, clicked := 0, 0.0, 0.5, false
	e.Policy, e.Round, e.ExpectedReward = "random", &round, &reward
	e.Items[0].Propensity, e.Items[0].Clicked = &prop, &clicked
	b, _ = json.Marshal(e)
	for _, k := range []string{`"policy":"random"`, `"round":0`, `"expected_reward":0`, `"propensity":0.5`, `"clicked":false`} {
		if !strings.Contains(string(b), k) {
			t.Fatalf("simulator line lacks %s: %s", k, b)
		}
	}
}

// Read takes server lines and a synthetic world's impressions.jsonl lines alike, and names the
// line of a bad one.
func TestRead(t *testing.T) {
	in := `{"request_id":"a","time":"2026-01-02T03:04:05Z","query_time":100,"user_id":"u1","user_known":true,"model_version":"v","history_len":2,"items":[{"item_id":"i1","position":1,"score":0.5}]}

{"request_id":"r0","user_id":"u2","timestamp":200,"shown":[{"item_id":"i3","position":1,"propensity":0.25},{"item_id":"i4","position":2,"propensity":1}],"clicked":["i4"]}
`
	got, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RequestTime() != 100 || got[0].User != "u1" || got[0].Items[0].Clicked != nil {
		t.Fatalf("server line: %+v", got)
	}
	w := got[1]
	if w.RequestID != "r0" || w.User != "u2" || w.RequestTime() != 200 || len(w.Items) != 2 ||
		*w.Items[0].Propensity != 0.25 || *w.Items[0].Clicked || !*w.Items[1].Clicked || w.Items[1].Position != 2 {
		t.Fatalf("world line: %+v", w)
	}
	for _, bad := range []string{"{\"user_id\":\"u\",\"timestamp\":1,\"shown\":[]}\nnot json\n", `{"request_id":"x","items":[]}`} {
		if _, err := Read(strings.NewReader(bad)); err == nil {
			t.Errorf("%q read without error", bad)
		}
	}
	if _, err := Read(strings.NewReader("{\"user_id\":\"u\",\"timestamp\":1,\"shown\":[]}\nnot json\n")); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("error %v does not name line 2", err)
	}
}
