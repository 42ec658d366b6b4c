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
