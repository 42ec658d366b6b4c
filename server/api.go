package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cascade-rec/cascade/servedlog"
)

// recommendRequest is the body of POST /v1/recommend.
type recommendRequest struct {
	UserID string `json:"user_id"`
	// K is the list length (default 10).
	K *int `json:"k"`
	// History holds item IDs the caller knows the user took (oldest first), added after the
	// stored history, e.g. a session not sent as events.
	History []string `json:"history"`
	// Exclude holds item IDs never to return in this answer.
	Exclude []string        `json:"exclude"`
	Context *requestContext `json:"context"`
	Explain bool            `json:"explain"`
}

// requestContext describes the request's situation.
type requestContext struct {
	// Time is the request's time as the models see it, in Unix seconds or RFC 3339 (default: the
	// server's clock, --clock), e.g. to replay logged traffic.
	Time *contextTime `json:"time"`
}

// contextTime is context.time: the same forms and range as an event's timestamp.
type contextTime int64

func (t *contextTime) UnmarshalJSON(b []byte) error {
	v, err := parseUnixJSON(b, "context.time")
	*t = contextTime(v)
	return err
}

const defaultK = 10

// limits bounds what a request may ask for.
type limits struct {
	maxK, maxHistory, maxExclude, maxBatch, maxIDBytes int
}

// apiError is an error answer: status, message and the request field at fault.
type apiError struct {
	Status int    `json:"-"`
	Msg    string `json:"error"`
	Field  string `json:"field,omitempty"`
	Code   string `json:"code"`
}

func (e *apiError) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Msg
	}
	return e.Msg
}

func badRequest(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "bad_request", Field: field, Msg: fmt.Sprintf(format, args...)}
}

// decodeStrict decodes exactly one JSON value from r into v, refusing unknown fields, and maps
// decoding errors to a 400 naming the field.
func decodeStrict(r io.Reader, v any) *apiError {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return badRequest("body", "the body must hold exactly one JSON value")
	}
	return nil
}

// jsonError turns an encoding/json (or body size) error into an answer.
func jsonError(err error) *apiError {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Field: "body", Msg: fmt.Sprintf("the body exceeds %d bytes", mbe.Limit)}
	case errors.As(err, &syn):
		return badRequest("body", "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return badRequest(field, "wrong type: got JSON %s, want %s", typ.Value, jsonTypeName(typ.Type.String()))
	case errors.Is(err, io.EOF):
		return badRequest("body", "empty body: a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body", "truncated JSON")
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		field := name
		if field == "" {
			field = "body"
		}
		return badRequest(field, "unknown field %q", name)
	}
	var fe *fieldError
	if errors.As(err, &fe) {
		return badRequest(fe.field, "%s", fe.msg)
	}
	return badRequest("body", "invalid JSON: %s", strings.TrimPrefix(msg, "json: "))
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "int"), goType == "*int", goType == "*int64":
		return "an integer"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "server.") || strings.HasPrefix(goType, "*server."):
		return "an object"
	}
	return goType
}

// fieldError is returned by custom UnmarshalJSON methods to name their field.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// decodeRecommend reads and validates a recommendation request.
func decodeRecommend(r io.Reader, lim limits) (recommendRequest, *apiError) {
	var req recommendRequest
	body, aerr := readText(r, "")
	if aerr != nil {
		return req, aerr
	}
	if err := decodeStrict(bytes.NewReader(body), &req); err != nil {
		return req, err
	}
	if err := checkID("user_id", req.UserID, lim.maxIDBytes); err != nil {
		return req, err
	}
	if req.K == nil {
		k := min(defaultK, lim.maxK)
		req.K = &k
	}
	if k := *req.K; k < 1 || k > lim.maxK {
		return req, badRequest("k", "k = %d is outside [1, %d]", k, lim.maxK)
	}
	if len(req.History) > lim.maxHistory {
		return req, badRequest("history", "%d items, at most %d", len(req.History), lim.maxHistory)
	}
	for i, id := range req.History {
		if err := checkID(fmt.Sprintf("history[%d]", i), id, lim.maxIDBytes); err != nil {
			return req, err
		}
	}
	if len(req.Exclude) > lim.maxExclude {
		return req, badRequest("exclude", "%d items, at most %d", len(req.Exclude), lim.maxExclude)
	}
	for i, id := range req.Exclude {
		if err := checkID(fmt.Sprintf("exclude[%d]", i), id, lim.maxIDBytes); err != nil {
			return req, err
		}
	}
	return req, nil
}

// maxUnix is year 9999, the end of RFC 3339.
const maxUnix = 253402300799

const unixRangeMsg = "outside the Unix seconds of 1970 through 9999"

// unixInRange is the one range check of a request's time, whichever form it came in (Unix
// seconds or RFC 3339): the years RFC 3339 can write, from the Unix epoch. NaN fails it.
func unixInRange(t float64) bool { return t >= 0 && t <= maxUnix }

// checkID checks an ID's length. Its text is valid UTF-8: readText checked the raw body.
func checkID(field, id string, maxBytes int) *apiError {
	switch {
	case id == "":
		return badRequest(field, "required, a non-empty string")
	case len(id) > maxBytes:
		return badRequest(field, "%d bytes, at most %d", len(id), maxBytes)
	}
	return nil
}

// readText reads a JSON body (the handler bounds its size) and refuses text that is not UTF-8,
// naming the field that holds it. This has to look at the raw bytes: encoding/json replaces
// invalid bytes and lone surrogate escapes with U+FFFD, so "\xff\xfe" and "\uFFFD\uFFFD" would
// decode to the same ID and merge two users. arrayRoot names the elements of a top-level array
// in the answer ("events" gives events[3].user_id).
func readText(r io.Reader, arrayRoot string) ([]byte, *apiError) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, jsonError(err)
	}
	if at := badText(body); at >= 0 {
		return nil, badRequest(fieldAt(body, at, arrayRoot), "not valid UTF-8 (byte %d of the body)", at)
	}
	return body, nil
}

// badText returns the offset of the first byte that is not UTF-8, or of the first \u escape of
// an unpaired UTF-16 surrogate inside a string; -1 when the text is clean.
func badText(b []byte) int {
	if utf8.Valid(b) && bytes.IndexByte(b, '\\') < 0 {
		return -1 // the common case, at memchr speed
	}
	inString := false
	for i := 0; i < len(b); {
		c := b[i]
		if c >= utf8.RuneSelf {
			if r, n := utf8.DecodeRune(b[i:]); r == utf8.RuneError && n == 1 {
				return i // also refuses encoded surrogates (ED A0 80)
			} else {
				i += n
			}
			continue
		}
		switch {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			if r, ok := hexEscape(b[i:]); ok && utf16.IsSurrogate(r) {
				if r2, ok := hexEscape(b[i+6:]); r < 0xdc00 && ok && r2 >= 0xdc00 && r2 <= 0xdfff {
					i += 12 // a valid pair
					continue
				}
				return i
			}
			i += 2 // the escaped byte cannot end the string
			continue
		}
		i++
	}
	return -1
}

// hexEscape decodes a \uXXXX escape at the start of b.
func hexEscape(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[2:6]), 16, 16)
	return rune(n), err == nil
}

// fieldAt names the field whose value (or key) holds byte off of a JSON body: "history[2]",
// "events[0].user_id", "context" for a bad key inside context; "body" when it cannot tell. It
// walks the tokens and only runs on bad input.
func fieldAt(body []byte, off int, arrayRoot string) string {
	type frame struct {
		object, wantKey bool
		key             string
		index           int
	}
	var st []frame
	name := func(frames []frame) string {
		var sb strings.Builder
		for i, f := range frames {
			switch {
			case f.object && sb.Len() > 0:
				sb.WriteString("." + f.key)
			case f.object:
				sb.WriteString(f.key)
			case i == 0:
				fmt.Fprintf(&sb, "%s[%d]", arrayRoot, f.index)
			default:
				fmt.Fprintf(&sb, "[%d]", f.index)
			}
		}
		if sb.Len() == 0 {
			return "body"
		}
		return sb.String()
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "body"
		}
		hit := int64(off) < dec.InputOffset()
		top := len(st) - 1
		if key, ok := tok.(string); ok && top >= 0 && st[top].object && st[top].wantKey {
			if hit {
				return name(st[:top])
			}
			st[top].key, st[top].wantKey = key, false
			continue
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			st = st[:top]
		} else {
			if top >= 0 && !st[top].object {
				st[top].index++
			}
			if hit {
				return name(st)
			}
			switch d {
			case '{':
				st = append(st, frame{object: true, wantKey: true})
				continue
			case '[':
				st = append(st, frame{index: -1})
				continue
			}
		}
		if top := len(st) - 1; top >= 0 && st[top].object {
			st[top].wantKey = true // the value of the current key is complete
		}
	}
}

// eventJSON is one event of POST /v1/events.
type eventJSON struct {
	UserID    string     `json:"user_id"`
	ItemID    string     `json:"item_id"`
	Timestamp *eventTime `json:"timestamp"`
	// Value is an optional explicit rating (explicit ALS and the rating features read it).
	Value *float64 `json:"value"`
}

// eventTime accepts Unix seconds (integer or fractional) or an RFC 3339 string, like the data
// set loader.
type eventTime int64

func (t *eventTime) UnmarshalJSON(b []byte) error {
	v, err := parseUnixJSON(b, "timestamp")
	*t = eventTime(v)
	return err
}

// parseUnixJSON reads a time given as Unix seconds (a JSON number, integer or fractional) or an
// RFC 3339 string, through the one range check. A number that is only in range as milliseconds
// is named as such: the commonest mistake with Unix times.
func parseUnixJSON(b []byte, field string) (int64, error) {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return 0, err
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, &fieldError{field, fmt.Sprintf("%q is neither Unix seconds nor RFC 3339", s)}
		}
		if !unixInRange(float64(ts.Unix())) {
			return 0, &fieldError{field, fmt.Sprintf("%q is %s", s, unixRangeMsg)}
		}
		return ts.Unix(), nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, &fieldError{field, fmt.Sprintf("%s is neither Unix seconds nor RFC 3339", b)}
	}
	if !unixInRange(f) {
		if sec := f / 1000; sec >= 1e9 && unixInRange(sec) {
			return 0, &fieldError{field, fmt.Sprintf("%s looks like milliseconds (%s): send Unix seconds", b, time.Unix(int64(sec), 0).UTC().Format(time.RFC3339))}
		}
		return 0, &fieldError{field, fmt.Sprintf("%s is %s", b, unixRangeMsg)}
	}
	return int64(f), nil
}

// decodeBatch reads one JSON object or an array of 1 … maxBatch of them, as T; root names the
// array in errors ("events" gives events[3].user_id) and what is counted.
func decodeBatch[T any](r io.Reader, root string, maxBatch int) (out []T, batch bool, aerr *apiError) {
	body, aerr := readText(r, root)
	if aerr != nil {
		return nil, false, aerr
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, false, jsonError(io.EOF)
	}
	batch = trimmed[0] == '['
	if batch {
		if aerr := decodeStrict(bytes.NewReader(body), &out); aerr != nil {
			return nil, true, prefixField(aerr, root)
		}
	} else {
		var one T
		if aerr := decodeStrict(bytes.NewReader(body), &one); aerr != nil {
			return nil, false, aerr
		}
		out = []T{one}
	}
	if len(out) == 0 {
		return nil, batch, badRequest(root, "no %s", root)
	}
	if len(out) > maxBatch {
		return nil, batch, badRequest(root, "%d %s, at most %d per request", len(out), root, maxBatch)
	}
	return out, batch, nil
}

// elementField names the fields of element i of a batch decodeBatch read: "events[3].user_id",
// or "user_id" when the body was one object.
func elementField(root string, batch bool, i int) func(string) string {
	return func(f string) string {
		if batch {
			return fmt.Sprintf("%s[%d].%s", root, i, f)
		}
		return f
	}
}

// decodeEvents reads one event object or an array of them. now stamps events without a time.
func decodeEvents(r io.Reader, lim limits, now int64) ([]eventJSON, *apiError) {
	evs, batch, aerr := decodeBatch[eventJSON](r, "events", lim.maxBatch)
	if aerr != nil {
		return nil, aerr
	}
	for i := range evs {
		e := &evs[i]
		at := elementField("events", batch, i)
		if err := checkID(at("user_id"), e.UserID, lim.maxIDBytes); err != nil {
			return nil, err
		}
		if err := checkID(at("item_id"), e.ItemID, lim.maxIDBytes); err != nil {
			return nil, err
		}
		if e.Value != nil && (math.IsNaN(*e.Value) || math.IsInf(*e.Value, 0) || math.Abs(*e.Value) > math.MaxFloat32) {
			return nil, badRequest(at("value"), "not a finite number")
		}
		if e.Timestamp == nil {
			t := eventTime(now)
			e.Timestamp = &t
		}
	}
	return evs, nil
}

// prefixField names a field inside the events array ("events." + the decoder's path).
func prefixField(e *apiError, prefix string) *apiError {
	if e.Field != "" && e.Field != "body" {
		e.Field = prefix + "." + e.Field
	}
	return e
}

// jsonFloat encodes NaN and ±Inf as null (JSON has no such numbers) and finite values with
// float32 precision.
type jsonFloat = servedlog.Float

// recommendResponse is the answer of POST /v1/recommend.
type recommendResponse struct {
	RequestID    string `json:"request_id"`
	ModelVersion string `json:"model_version"`
	// UserKnown: the data set or the live store knows the user; HistoryLen is the history the
	// models saw. Fallback: the answer is the non-personal list (no known item in the history).
	// Degraded: the request ran out of its deadline or the pipeline failed, and the fallback
	// list answers instead.
	UserKnown    bool        `json:"user_known"`
	HistoryLen   int         `json:"history_len"`
	Fallback     bool        `json:"fallback"`
	Degraded     bool        `json:"degraded,omitempty"`
	Variant      string      `json:"variant,omitempty"` // the file's variant serving the user (variants.go)
	Items        []itemJSON  `json:"items"`
	Stages       []stageJSON `json:"stages"`
	FeatureNames []string    `json:"feature_names,omitempty"`
	Warnings     []string    `json:"warnings,omitempty"`
	// RequestTime is the time (Unix seconds) the features were computed at: context.time, or the
	// server's clock (explain only).
	RequestTime int64         `json:"request_time,omitempty"`
	featureRows [][]jsonFloat // explain: per item, for the served log
}

type itemJSON struct {
	ItemID  string         `json:"item_id"`
	Score   jsonFloat      `json:"score"`
	Rank    int            `json:"rank"`
	Sources map[string]int `json:"sources"`
	// Explain only.
	RankerScores map[string]jsonFloat `json:"ranker_scores,omitempty"`
	Features     map[string]jsonFloat `json:"features,omitempty"`
}

type stageJSON = servedlog.Stage

// similarResponse is the answer of GET /v1/items/{id}/similar.
type similarResponse struct {
	RequestID    string        `json:"request_id"`
	ModelVersion string        `json:"model_version"`
	ItemID       string        `json:"item_id"`
	Items        []similarItem `json:"items"`
}

type similarItem struct {
	ItemID string    `json:"item_id"`
	Score  jsonFloat `json:"score"`
	Rank   int       `json:"rank"`
}

// eventsResponse is the answer of POST /v1/events.
type eventsResponse struct {
	// Accepted counts the events stored (all of the request's).
	Accepted int `json:"accepted"`
	// UnknownItems counts the accepted events whose item the catalog does not know: stored, but
	// no model uses them until a retrain; UnknownItemIDs lists (the first 10 of) those items and
	// Warnings says it in words.
	UnknownItems   int      `json:"unknown_items"`
	UnknownItemIDs []string `json:"unknown_item_ids,omitempty"`
	Warnings       []string `json:"warnings,omitempty"`
}
