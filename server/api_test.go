package server

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
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
		"{\"user_id\": \"\xff\xfe\"}", `{"user_id": "\ud800\udc00", "history": ["\udfff"]}`,
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
		if !utf8.Valid(body) {
			t.Fatalf("accepted a body that is not UTF-8: %q", body)
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
		if !utf8.Valid(body) {
			t.Fatalf("accepted a body that is not UTF-8: %q", body)
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
	_, err := decodeRecommend(strings.NewReader(`{"user_id": "u", "context": {"time": "yesterday"}}`), testLimits)
	if err == nil || err.Field != "context.time" {
		t.Fatalf("%+v", err)
	}
	// context.time takes what an event's timestamp takes, through the same checks.
	for _, tc := range []struct {
		time string
		want int64
		msg  string
	}{
		{`1704161045`, 1704161045, ""},
		{`"2024-01-02T03:04:05+01:00"`, 1704161045, ""},
		{`"0001-01-01T00:00:00Z"`, 0, "outside the Unix seconds"},
		{`-1`, 0, "outside the Unix seconds"},
		{`1704161045000`, 0, "looks like milliseconds (2024-01-02T02:04:05Z)"},
	} {
		req, err := decodeRecommend(strings.NewReader(`{"user_id": "u", "context": {"time": `+tc.time+`}}`), testLimits)
		switch {
		case tc.msg == "" && (err != nil || int64(*req.Context.Time) != tc.want):
			t.Errorf("time %s: %+v %v", tc.time, err, req.Context)
		case tc.msg != "" && (err == nil || err.Field != "context.time" || !strings.Contains(err.Msg, tc.msg)):
			t.Errorf("time %s: %+v, want %q", tc.time, err, tc.msg)
		}
	}
	if _, err := decodeEvents(strings.NewReader(`{"user_id": "u", "item_id": "i", "timestamp": 1704161045000}`), testLimits, 7); err == nil || err.Field != "timestamp" || !strings.Contains(err.Msg, "milliseconds") {
		t.Errorf("an event in milliseconds: %+v", err)
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

// Item 8: an RFC 3339 time gets the same range check as a numeric one.
func TestTimestampRangeSharedByBothForms(t *testing.T) {
	for _, tc := range []struct {
		ts   string
		want int64 // -1: refused
	}{
		{`0`, 0},
		{`"1970-01-01T00:00:00Z"`, 0},
		{`253402300799`, 253402300799},
		{`"9999-12-31T23:59:59Z"`, 253402300799},
		{`-1`, -1},
		{`"1969-12-31T23:59:59Z"`, -1},
		{`"0001-01-01T00:00:00Z"`, -1},
		{`253402300800`, -1},
		{`"9999-12-31T23:59:59-01:00"`, -1}, // year 10000 in UTC
	} {
		evs, err := decodeEvents(strings.NewReader(`{"user_id": "u", "item_id": "i", "timestamp": `+tc.ts+`}`), testLimits, 7)
		switch {
		case tc.want < 0 && (err == nil || err.Field != "timestamp"):
			t.Errorf("%s: accepted as %v (err %v), want a 400 naming timestamp", tc.ts, evs, err)
		case tc.want >= 0 && (err != nil || int64(*evs[0].Timestamp) != tc.want):
			t.Errorf("%s: %v %v, want %d", tc.ts, evs, err, tc.want)
		}
	}
}

// Item 9: invalid UTF-8 in the raw body is a 400 naming the field, before the decoder would
// replace it with U+FFFD (which would merge "\xff\xfe" with "\uFFFD\uFFFD"). Lone surrogate
// escapes decode to U+FFFD too, and are refused the same way; real U+FFFD and surrogate pairs
// are valid.
func TestInvalidUTF8IsRefusedNamingTheField(t *testing.T) {
	for _, tc := range []struct {
		body, field string // field "": accepted
	}{
		{"{\"user_id\": \"\xff\xfe\"}", "user_id"},
		{"{\"user_id\": \"u\", \"history\": [\"a\", \"b\xc3\"]}", "history[1]"},
		{"{\"user_id\": \"u\", \"exclude\": [\"\xed\xa0\x80\"]}", "exclude[0]"}, // an encoded surrogate
		{`{"user_id": "\ud800"}`, "user_id"},
		{`{"user_id": "a\udc00b"}`, "user_id"},
		{`{"user_id": "\ud800\u0041"}`, "user_id"},
		{"{\"user_id\": \"u\", \"context\": {\"x\xff\": 1}}", "context"},
		{`{"user_id": "\uFFFD\uFFFD"}`, ""},
		{"{\"user_id\": \"\xef\xbf\xbd\"}", ""},
		{`{"user_id": "\ud83d\ude00"}`, ""},
		{`{"user_id": "\\ud800"}`, ""}, // an escaped backslash, not an escape
	} {
		_, err := decodeRecommend(strings.NewReader(tc.body), testLimits)
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%q refused: %v", tc.body, err)
		case tc.field != "" && (err == nil || err.Status != 400 || err.Field != tc.field || !strings.Contains(err.Msg, "UTF-8")):
			t.Errorf("%q: got %+v, want a 400 naming %s", tc.body, err, tc.field)
		}
	}
	for _, tc := range []struct{ body, field string }{
		{"{\"user_id\": \"\xff\", \"item_id\": \"i\"}", "user_id"},
		{"[{\"user_id\": \"u\", \"item_id\": \"i\"}, {\"user_id\": \"u\", \"item_id\": \"\xfe\"}]", "events[1].item_id"},
		{"[{\"user_id\": \"u\", \"item_id\": \"i\", \"timestamp\": \"2024\xff\"}]", "events[0].timestamp"},
	} {
		if _, err := decodeEvents(strings.NewReader(tc.body), testLimits, 1); err == nil || err.Field != tc.field {
			t.Errorf("%q: got %+v, want a 400 naming %s", tc.body, err, tc.field)
		}
	}
	// The two IDs the decoder would have merged stay apart: one is refused.
	a, aerr := decodeRecommend(strings.NewReader(`{"user_id": "\uFFFD\uFFFD"}`), testLimits)
	_, berr := decodeRecommend(strings.NewReader("{\"user_id\": \"\xff\xfe\"}"), testLimits)
	if aerr != nil || a.UserID != "\uFFFD\uFFFD" || berr == nil {
		t.Fatalf("%v %v %v", a.UserID, aerr, berr)
	}
}
