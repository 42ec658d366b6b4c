package openbandit

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/cascade-rec/cascade/dataset"
)

// Positions is the number of recommendation slots of the data set (position 1–3).
const Positions = 3

// Record is one impression of a log.
type Record struct {
	Time time.Time
	// Item is item_id, in [0, items).
	Item int
	// Position is the slot as the file has it, 1–3.
	Position int
	// Click is 0 or 1.
	Click int
	// Propensity is propensity_score, the logging policy's probability of Item at Position.
	Propensity float64
}

// timeLayout is the timestamp format of the files, e.g. 2019-11-24 00:03:13.442536+00:00.
const timeLayout = "2006-01-02 15:04:05.999999999-07:00"

// Columns that ReadLog needs; the others are ignored.
var logColumns = []string{"timestamp", "item_id", "position", "click", "propensity_score"}

// ReadLog reads an impressions file. items bounds item_id. A malformed row is a
// *dataset.ParseError naming the file, the line (1-based, the header being line 1) and the field.
func ReadLog(path string, items int) ([]Record, error) {
	var out []Record
	err := eachRow(path, logColumns, func(rec []string, col map[string]int, line int) error {
		bad := func(field string, err error) error {
			return &dataset.ParseError{File: path, Line: line, Field: field, Err: err}
		}
		var r Record
		var err error
		if r.Time, err = time.Parse(timeLayout, rec[col["timestamp"]]); err != nil {
			return bad("timestamp", err)
		}
		if r.Item, err = intIn(rec[col["item_id"]], 0, items-1); err != nil {
			return bad("item_id", err)
		}
		if r.Position, err = intIn(rec[col["position"]], 1, Positions); err != nil {
			return bad("position", err)
		}
		if r.Click, err = intIn(rec[col["click"]], 0, 1); err != nil {
			return bad("click", err)
		}
		if r.Propensity, err = strconv.ParseFloat(rec[col["propensity_score"]], 64); err != nil {
			return bad("propensity_score", err)
		}
		if !(r.Propensity > 0 && r.Propensity <= 1) || math.IsNaN(r.Propensity) {
			return bad("propensity_score", fmt.Errorf("%g is outside (0, 1]", r.Propensity))
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no impressions", path)
	}
	return out, nil
}

// ReadItemCount reads an item_context.csv and returns the number of items, checking that its
// item_id column holds 0, 1, …, n−1, each once.
func ReadItemCount(path string) (int, error) {
	var ids []int
	err := eachRow(path, []string{"item_id"}, func(rec []string, col map[string]int, line int) error {
		id, err := intIn(rec[col["item_id"]], 0, math.MaxInt32)
		if err != nil {
			return &dataset.ParseError{File: path, Line: line, Field: "item_id", Err: err}
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return 0, err
	}
	seen := make([]bool, len(ids))
	for _, id := range ids {
		if id >= len(ids) || seen[id] {
			return 0, fmt.Errorf("%s: item_id must list 0..%d once each; got %d", path, len(ids)-1, id)
		}
		seen[id] = true
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("%s: no items", path)
	}
	return len(ids), nil
}

// columns maps each wanted column name to its index in header.
func columns(path string, header, want []string) (map[string]int, error) {
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, w := range want {
		if _, ok := col[w]; !ok {
			return nil, &dataset.ParseError{File: path, Line: 1, Field: w, Err: errors.New("column missing from the header")}
		}
	}
	return col, nil
}

// csvError turns an encoding/csv error into a *dataset.ParseError with its line.
func csvError(path string, cr *csv.Reader, err error, field string) error {
	if err == io.EOF {
		return &dataset.ParseError{File: path, Line: 1, Field: field, Err: errors.New("empty file")}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &dataset.ParseError{File: path, Line: pe.Line, Field: field, Err: pe.Err}
	}
	return fmt.Errorf("%s: %w", path, err)
}

// intIn parses a decimal integer in [lo, hi].
func intIn(s string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, err
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%d is outside [%d, %d]", v, lo, hi)
	}
	return v, nil
}
