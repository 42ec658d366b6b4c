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
	"unicode/utf8"
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
	// Time is the request's Unix time as the models see it (default: now), e.g. to replay
	// logged traffic.
	Time *int64 `json:"time"`
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
		return &apiError{Status: http.StatusBadRequest, Code: "body_too_large", Field: "body", Msg: fmt.Sprintf("the body exceeds %d bytes", mbe.Limit)}
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
	if err := decodeStrict(r, &req); err != nil {
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
	if req.Context != nil && req.Context.Time != nil {
		if t := *req.Context.Time; t < 0 || t > maxUnix {
			return req, badRequest("context.time", "%d is not a Unix time in seconds", t)
		}
	}
	return req, nil
}

// maxUnix is year 9999, the end of RFC 3339.
const maxUnix = 253402300799

func checkID(field, id string, maxBytes int) *apiError {
	switch {
	case id == "":
		return badRequest(field, "required, a non-empty string")
	case len(id) > maxBytes:
		return badRequest(field, "%d bytes, at most %d", len(id), maxBytes)
	case !utf8.ValidString(id):
		return badRequest(field, "not valid UTF-8")
	}
	return nil
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
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return &fieldError{"timestamp", fmt.Sprintf("%q is neither Unix seconds nor RFC 3339", s)}
		}
		*t = eventTime(ts.Unix())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxUnix {
		return &fieldError{"timestamp", fmt.Sprintf("%s is neither Unix seconds nor RFC 3339", b)}
	}
	*t = eventTime(f)
	return nil
}

// decodeEvents reads one event object or an array of them. now stamps events without a time.
func decodeEvents(r io.Reader, lim limits, now int64) ([]eventJSON, *apiError) {
	br := newPeekReader(r)
	first, err := br.peekNonSpace()
	if err != nil {
		return nil, jsonError(err)
	}
	var evs []eventJSON
	batch := first == '['
	if batch {
		if aerr := decodeStrict(br, &evs); aerr != nil {
			return nil, prefixField(aerr, "events")
		}
	} else {
		var e eventJSON
		if aerr := decodeStrict(br, &e); aerr != nil {
			return nil, aerr
		}
		evs = []eventJSON{e}
	}
	if len(evs) == 0 {
		return nil, badRequest("events", "no events")
	}
	if len(evs) > lim.maxBatch {
		return nil, badRequest("events", "%d events, at most %d per request", len(evs), lim.maxBatch)
	}
	for i := range evs {
		e := &evs[i]
		at := func(f string) string {
			if batch {
				return fmt.Sprintf("events[%d].%s", i, f)
			}
			return f
		}
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

// peekReader lets decodeEvents look at the first non-space byte without consuming it.
type peekReader struct {
	r   io.Reader
	buf []byte
}

func newPeekReader(r io.Reader) *peekReader { return &peekReader{r: r} }

func (p *peekReader) peekNonSpace() (byte, error) {
	var b [1]byte
	for {
		n, err := p.r.Read(b[:])
		if n == 1 {
			p.buf = append(p.buf, b[0])
			if !bytes.ContainsRune([]byte(" \t\r\n"), rune(b[0])) {
				return b[0], nil
			}
			continue
		}
		if err != nil {
			return 0, err
		}
	}
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// jsonFloat encodes NaN and ±Inf as null (JSON has no such numbers) and finite values with
// float32 precision.
type jsonFloat float32

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 32), nil
}

// recommendResponse is the answer of POST /v1/recommend.
type recommendResponse struct {
	RequestID    string `json:"request_id"`
	ModelVersion string `json:"model_version"`
	// UserKnown: the data set or the live store knows the user; HistoryLen is the history the
	// models saw. Fallback: the answer is the non-personal list (no known item in the history).
	// Degraded: the request ran out of its deadline or the pipeline failed, and the fallback
	// list answers instead.
	UserKnown    bool          `json:"user_known"`
	HistoryLen   int           `json:"history_len"`
	Fallback     bool          `json:"fallback"`
	Degraded     bool          `json:"degraded,omitempty"`
	Items        []itemJSON    `json:"items"`
	Stages       []stageJSON   `json:"stages"`
	FeatureNames []string      `json:"feature_names,omitempty"`
	Warnings     []string      `json:"warnings,omitempty"`
	featureRows  [][]jsonFloat // explain: per item, for the served log
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

type stageJSON struct {
	Name     string  `json:"name"`
	MS       float64 `json:"ms"`
	In       int     `json:"in"`
	Out      int     `json:"out"`
	Fallback bool    `json:"fallback"`
	Error    string  `json:"error,omitempty"`
}

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
	Accepted int `json:"accepted"`
	// UnknownItems counts accepted events whose item the catalog does not know: logged, but not
	// used by the models.
	UnknownItems int `json:"unknown_items"`
}
