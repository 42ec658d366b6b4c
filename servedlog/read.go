package servedlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// WorldImpression is one line of a synthetic world's impressions.jsonl (package synth writes it):
// a request its logging policy served, with the propensity of each shown item and the clicks.
// Read takes these lines too, as Entries.
type WorldImpression struct {
	RequestID string       `json:"request_id"`
	UserID    string       `json:"user_id"`
	Timestamp int64        `json:"timestamp"`
	Shown     []WorldShown `json:"shown"`
	Clicked   []string     `json:"clicked"`
}

// WorldShown is one shown item of a WorldImpression.
type WorldShown struct {
	ItemID     string  `json:"item_id"`
	Position   int     `json:"position"`
	Propensity float64 `json:"propensity"`
}

// RequestTime is the request's time as the models saw it: QueryTime, or the serving time when
// the line has none.
func (e *Entry) RequestTime() int64 {
	if e.QueryTime != 0 {
		return e.QueryTime
	}
	return e.Time.Unix()
}

// ReadFile reads a served log, or a synthetic world's impressions.jsonl, as Entries.
func ReadFile(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("servedlog: %w", err)
	}
	defer f.Close()
	out, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("servedlog: %s%w", path, err)
	}
	return out, nil
}

// Read reads JSON lines of either format (blank lines skipped); an impressions.jsonl line becomes
// an Entry whose items carry their propensity and whether they were clicked. Errors name the line.
func Read(r io.Reader) ([]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 64<<20)
	var out []Entry
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var w WorldImpression
		if err := json.Unmarshal(line, &w); err != nil {
			return nil, fmt.Errorf(":%d: %w", n, err)
		}
		var e Entry
		if w.Shown != nil {
			e = w.entry()
		} else if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf(":%d: %w", n, err)
		}
		if e.User == "" || e.QueryTime == 0 && e.Time.IsZero() {
			return nil, fmt.Errorf(":%d: a line without user_id or time", n)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf(": %w", err)
	}
	return out, nil
}

// entry restates a world impression as a served-log entry.
func (w *WorldImpression) entry() Entry {
	e := Entry{RequestID: w.RequestID, Time: time.Unix(w.Timestamp, 0).UTC(), QueryTime: w.Timestamp, User: w.UserID, UserKnown: true}
	clicked := map[string]bool{}
	for _, id := range w.Clicked {
		clicked[id] = true
	}
	for _, s := range w.Shown {
		prop, c := s.Propensity, clicked[s.ItemID]
		e.Items = append(e.Items, Item{ItemID: s.ItemID, Position: s.Position, Propensity: &prop, Clicked: &c})
	}
	return e
}
