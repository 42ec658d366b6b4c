// Package servedlog owns the format of the served-list log: one JSON line per answered
// recommendation, saying what was shown to whom, where, and with which features. The server writes
// it (--served-log); the simulator writes the same lines for its rounds and adds what the
// simulation knows (the policy, each item's logging propensity and click). Whatever learns from
// what was shown reads this one format (ReadFile, which also takes a synthetic world's
// impressions.jsonl, whose line type WorldImpression synth writes).
package servedlog

import (
	"math"
	"strconv"
	"time"
)

// Entry is one line of the log.
type Entry struct {
	RequestID    string    `json:"request_id"`
	Time         time.Time `json:"time"`       // when it was served
	QueryTime    int64     `json:"query_time"` // the request's time as the models saw it (Unix s)
	User         string    `json:"user_id"`
	UserKnown    bool      `json:"user_known"`
	ModelVersion string    `json:"model_version"`
	// Variant is the pipeline file's variant that served the user (pipeline.Bucket), when the
	// file declares variants.
	Variant    string `json:"variant,omitempty"`
	HistoryLen int    `json:"history_len"`
	Fallback   bool   `json:"fallback,omitempty"`
	Degraded   bool   `json:"degraded,omitempty"`
	// Stages are the server's per-stage timings (absent from the simulator's deterministic logs).
	Stages       []Stage  `json:"stages,omitempty"`
	FeatureNames []string `json:"feature_names,omitempty"`
	Items        []Item   `json:"items"`

	// What a simulation adds: the policy that served, the round, and the slate's exact expected
	// reward under the world's click model.
	Policy         string   `json:"policy,omitempty"`
	Round          *int     `json:"round,omitempty"`
	ExpectedReward *float64 `json:"expected_reward,omitempty"`
}

// Item is one shown item.
type Item struct {
	ItemID   string         `json:"item_id"`
	Position int            `json:"position"`
	Score    Float          `json:"score"`
	Sources  map[string]int `json:"sources,omitempty"`
	Features []Float        `json:"features,omitempty"`
	// Propensity is the logging policy's probability of showing this item at this position
	// (given the items above it); Clicked the outcome. Set where they are known (the simulator).
	Propensity *float64 `json:"propensity,omitempty"`
	Clicked    *bool    `json:"clicked,omitempty"`
}

// Stage is what one stage of the pipeline did for the answer.
type Stage struct {
	Name     string  `json:"name"`
	MS       float64 `json:"ms"`
	In       int     `json:"in"`
	Out      int     `json:"out"`
	Fallback bool    `json:"fallback"`
	Error    string  `json:"error,omitempty"`
}

// Float is a float32 that writes NaN and ±Inf (a missing feature) as null, which JSON cannot
// otherwise hold.
type Float float32

// MarshalJSON writes f's shortest float32 text, or null.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 32), nil
}
