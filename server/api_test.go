package server

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range tempDirs { // the shared fixtures'
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

var testLimits = limits{maxK: 100, maxHistory: 50, maxExclude: 50, maxBatch: 10, maxIDBytes: 64}

// FuzzDecodeRecommend: no input panics, and what decodes satisfies every limit.
func FuzzDecodeRecommend(f *testing.F) {
	for _, seed := range []string{
		`{"user_id": "42", "k": 10}`,
		`{"user_id": "42", "k": 10, "history": ["1", "2"], "exclude": ["3"], "context": {"time": 1700000000}, "explain": true}`,
		`{"user_id": "u"}`,
		`{"user_id": "u", "k": 0}`,
		`{"user_id": "u", "k": 1e400}`,
		`{"user_id": "u", "k": -9223372036854775809}`,
		`{"user_id": "\ud800"}`,
		`{"user_id": "u", "history": [null]}`,
		`{"user_id": "u", "context": null}`,
		`{"user_id": "u", "context": {"time": null}}`,
		`{"user_id": "u", "unknown": {"deep": [1, {"x": 2}]}}`,
		`{"user_id": "u"} trailing`,
		`[]`, `null`, `""`, `{`, `}`, ``, `{"user_id": "u", "k": 10, "k": 11}`,
		"{\"user_id\": \"u\x00\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRecommend(bytes.NewReader(body), testLimits)
		if err != nil {
			if err.Status != 400 || err.Msg == "" || err.Field == "" {
				t.Fatalf("bad error %+v for %q", err, body)
			}
			if _, jerr := json.Marshal(err); jerr != nil {
				t.Fatalf("error does not encode: %v", jerr)
			}
			return
		}
		if req.UserID == "" || len(req.UserID) > testLimits.maxIDBytes || req.K == nil || *req.K < 1 || *req.K > testLimits.maxK ||
			len(req.History) > testLimits.maxHistory || len(req.Exclude) > testLimits.maxExclude {
			t.Fatalf("accepted out of limits: %+v from %q", req, body)
		}
		for _, id := range append(req.History, req.Exclude...) {
			if id == "" || len(id) > testLimits.maxIDBytes {
				t.Fatalf("accepted item ID %q", id)
			}
		}
	})
}

func FuzzDecodeEvents(f *testing.F) {
	for _, seed := range []string{
		`{"user_id": "u", "item_id": "i"}`,
		`{"user_id": "u", "item_id": "i", "timestamp": 1700000000.5, "value": 4}`,
		`[{"user_id": "u", "item_id": "i", "timestamp": "2024-01-02T03:04:05Z"}]`,
		`[{"user_id": "u", "item_id": "i", "timestamp": 1e300}]`,
		`[{"user_id": "u", "item_id": "i", "value": 1e39}]`,
		` [ ] `, `[null]`, `{"timestamp": {}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, err := decodeEvents(bytes.NewReader(body), testLimits, 1)
		if err != nil {
			if err.Status != 400 || err.Field == "" {
				t.Fatalf("bad error %+v for %q", err, body)
			}
			return
		}
		if len(evs) == 0 || len(evs) > testLimits.maxBatch {
			t.Fatalf("%d events from %q", len(evs), body)
		}
		for _, e := range evs {
			if e.UserID == "" || e.ItemID == "" || e.Timestamp == nil || *e.Timestamp < 0 || (e.Value != nil && math.IsInf(float64(float32(*e.Value)), 0)) {
				t.Fatalf("accepted %+v from %q", e, body)
			}
		}
	})
}

func TestJSONFloatEncodesNonFiniteAsNull(t *testing.T) {
	b, err := json.Marshal([]jsonFloat{1.5, jsonFloat(math.NaN()), jsonFloat(math.Inf(-1)), 0.1})
	if err != nil || string(b) != "[1.5,null,null,0.1]" {
		t.Fatalf("%s %v", b, err)
	}
}

func TestDecodeNamesNestedFields(t *testing.T) {
	_, err := decodeRecommend(strings.NewReader(`{"user_id": "u", "context": {"time": 1.5}}`), testLimits)
	if err == nil || err.Field != "context.time" {
		t.Fatalf("%+v", err)
	}
	evs, err := decodeEvents(strings.NewReader(" \n{\"user_id\": \"u\", \"item_id\": \"i\", \"timestamp\": \"2024-01-02T03:04:05+01:00\"}"), testLimits, 7)
	if err != nil || len(evs) != 1 || int64(*evs[0].Timestamp) != 1704161045 {
		t.Fatalf("%+v %+v", evs, err)
	}
	evs, _ = decodeEvents(strings.NewReader(`[{"user_id": "u", "item_id": "i"}]`), testLimits, 7)
	if int64(*evs[0].Timestamp) != 7 {
		t.Fatalf("missing time not stamped: %d", *evs[0].Timestamp)
	}
}
