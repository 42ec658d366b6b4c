package dataset

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strconv"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// Format forces a loader; "" or "auto" detects it from the files present.
	Format string
	// SkipMalformed skips rows that do not parse instead of failing; the count is reported in
	// Dataset.Skipped and logged. Off by default: bad data is an error naming file, line and field.
	SkipMalformed bool
	// Logger receives the skip report; slog.Default() when nil.
	Logger *slog.Logger
	// DropTypes names event types whose events are left out before dense IDs are assigned, so
	// that no model, split or replay sees them (items seen only in them come last, as items
	// known only from an attribute file do). A name the data does not hold drops nothing: the
	// caller checks names against Dataset.EventTypes, where it can say where the name came from.
	DropTypes []string
}

// ParseError is a malformed row: File, Line (1-based) and Field name where it failed.
type ParseError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: field %s: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Load reads the data set in dir. Events come out in time order (stable: ties keep file order)
// with dense IDs assigned in order of first appearance.
func Load(dir string, opt LoadOptions) (*Dataset, error) {
	format := opt.Format
	if format == "" || format == "auto" {
		f, err := Detect(dir)
		if err != nil {
			return nil, err
		}
		format = f
	}
	b := newBuilder(dir, opt)
	var err error
	switch format {
	case FormatCoat:
		return nil, fmt.Errorf("data set %s is Coat (%s, %s, %s): %w; ranking pipelines need an event log, and Coat is read by pipeline files with an explicit_mf model (examples/coat-ips.yaml)",
			dir, CoatTrainFile, CoatTestFile, CoatPropensitiesFile, ErrRatingMatrices)
	case FormatML100K:
		err = b.loadML100K()
	case FormatML1M:
		err = b.loadML1M()
	case FormatMLLatest:
		err = b.loadMLLatest()
	case FormatGeneric:
		err = b.loadGeneric()
	default:
		return nil, fmt.Errorf("data set %s: unknown format %q (want auto, %s, %s, %s, %s or %s)", dir, format, FormatCoat, FormatML100K, FormatML1M, FormatMLLatest, FormatGeneric)
	}
	if err != nil {
		return nil, err
	}
	ds := b.finish(format)
	ds.Dir = dir
	if b.skipped > 0 {
		logger := opt.Logger
		if logger == nil {
			logger = slog.Default()
		}
		for _, pe := range b.skippedRows {
			logger.Warn("skipped a malformed row", "row", pe.Error())
		}
		logger.Warn("skipped malformed rows", "dataset", dir, "rows", b.skipped, "logged", len(b.skippedRows))
	}
	return ds, nil
}

// rawEvent uses the builder's file-order IDs until finish remaps them.
type rawEvent struct {
	user, item int32
	time       int64
	value      float32
	typ        uint8
}

type builder struct {
	dir         string
	opt         LoadOptions
	users       *Dict // file-order interning
	items       *Dict
	events      []rawEvent
	titles      map[int32]string
	iattrs      *attrBuilder
	uattrs      *attrBuilder
	skipped     int
	skippedRows []ParseError // the first maxSkippedRows, each naming file, line and field
	hasVal      bool
	types       *Dict // event type names; nil without an event column
}

func newBuilder(dir string, opt LoadOptions) *builder {
	return &builder{dir: dir, opt: opt, users: NewDict(), items: NewDict(), titles: map[int32]string{}}
}

// maxSkippedRows bounds the skipped rows kept by name: enough to find a pattern, not a copy of
// a broken file.
const maxSkippedRows = 10

// bad records a malformed row: an error, or a skip when the user asked for skipping.
func (b *builder) bad(file string, line int, field string, err error) error {
	pe := ParseError{File: file, Line: line, Field: field, Err: err}
	if b.opt.SkipMalformed {
		b.skipped++
		if len(b.skippedRows) < maxSkippedRows {
			b.skippedRows = append(b.skippedRows, pe)
		}
		return nil
	}
	return &pe
}

// addEvent parses one event's fields; it returns a *ParseError (or nil when skipped). typ is the
// event's type index (0 for sources without types).
func (b *builder) addEvent(file string, line int, user, item, ts, value string, typ uint8, parseTime func(string) (int64, error)) error {
	if user == "" {
		return b.bad(file, line, "user", errors.New("empty"))
	}
	if item == "" {
		return b.bad(file, line, "item", errors.New("empty"))
	}
	t, err := parseTime(ts)
	if err != nil {
		return b.bad(file, line, "timestamp", err)
	}
	v := float32(math.NaN())
	if value != "" {
		f, err := strconv.ParseFloat(value, 32)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			if err == nil {
				err = fmt.Errorf("%q is not a finite number", value)
			}
			return b.bad(file, line, "value", err)
		}
		v = float32(f)
		b.hasVal = true
	}
	b.events = append(b.events, rawEvent{b.users.Add(user), b.items.Add(item), t, v, typ})
	return nil
}

// eventType returns the index of the event type called name, adding it when new; ok is false
// (after recording the row as bad) when the name is empty or one too many.
func (b *builder) eventType(file string, line int, field, name string) (typ uint8, ok bool, err error) {
	if name == "" {
		return 0, false, b.bad(file, line, field, errors.New("empty event type"))
	}
	if id, known := b.types.Lookup(name); known {
		return uint8(id), true, nil
	}
	if b.types.Len() == MaxEventTypes {
		return 0, false, b.bad(file, line, field, fmt.Errorf("%q would be event type number %d; at most %d are allowed (is %s the event kind?)", name, MaxEventTypes+1, MaxEventTypes, field))
	}
	return uint8(b.types.Add(name)), true, nil
}

// dropTypes leaves out the events of the named types (LoadOptions.DropTypes).
func (b *builder) dropTypes() int {
	if b.types == nil || len(b.opt.DropTypes) == 0 {
		return 0
	}
	drop := make([]bool, b.types.Len())
	for _, name := range b.opt.DropTypes {
		if id, ok := b.types.Lookup(name); ok {
			drop[id] = true
		}
	}
	kept := b.events[:0]
	for _, e := range b.events {
		if !drop[e.typ] {
			kept = append(kept, e)
		}
	}
	n := len(b.events) - len(kept)
	b.events = kept
	return n
}

// finish drops the events of LoadOptions.DropTypes, sorts the rest by time (stable) and assigns
// dense IDs by first appearance.
func (b *builder) finish(format string) *Dataset {
	dropped := b.dropTypes()
	slices.SortStableFunc(b.events, func(x, y rawEvent) int {
		switch {
		case x.time < y.time:
			return -1
		case x.time > y.time:
			return 1
		}
		return 0
	})
	users, userPerm := NewDict(), make([]int32, b.users.Len())
	items, itemPerm := NewDict(), make([]int32, b.items.Len())
	for i := range userPerm {
		userPerm[i] = -1
	}
	for i := range itemPerm {
		itemPerm[i] = -1
	}
	events := make([]Event, len(b.events))
	for k, e := range b.events {
		if userPerm[e.user] < 0 {
			userPerm[e.user] = users.Add(b.users.String(e.user))
		}
		if itemPerm[e.item] < 0 {
			itemPerm[e.item] = items.Add(b.items.String(e.item))
		}
		events[k] = Event{User: userPerm[e.user], Item: itemPerm[e.item], Time: e.time, Value: e.value, Type: e.typ}
	}
	// Entities known only from attribute files come last, in file order.
	for old, p := range userPerm {
		if p < 0 {
			userPerm[old] = users.Add(b.users.String(int32(old)))
		}
	}
	for old, p := range itemPerm {
		if p < 0 {
			itemPerm[old] = items.Add(b.items.String(int32(old)))
		}
	}
	ds := &Dataset{
		Name:        filepath.Base(filepath.Clean(b.dir)),
		Format:      format,
		Users:       users,
		Items:       items,
		Events:      events,
		HasValues:   b.hasVal,
		EventTypes:  b.types,
		Dropped:     dropped,
		ItemAttrs:   b.iattrs.build(itemPerm, items.Len()),
		UserAttrs:   b.uattrs.build(userPerm, users.Len()),
		Skipped:     b.skipped,
		SkippedRows: b.skippedRows,
	}
	if len(b.titles) > 0 {
		ds.ItemTitles = make([]string, items.Len())
		for old, t := range b.titles {
			ds.ItemTitles[itemPerm[old]] = t
		}
	}
	return ds
}
