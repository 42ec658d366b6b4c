// Package dataset owns Cascade's interaction data: events, dense ID dictionaries, item and user
// attributes, the loaders that read them from a directory (MovieLens 100K/1M/latest and the
// generic CSV format), replay-v1's global temporal split, and the sparse user×item matrices that
// models train on.
//
// Dense IDs are assigned in time order of first appearance: after Load, the items (and users) that
// occur in the first k events are exactly the IDs below some bound. In particular the train
// catalog of a temporal split is the prefix [0, Split.TrainItems), so a model trained on train
// knows every item whose ID is below its own item count and nothing else.
package dataset

import (
	"fmt"
	"math"
)

// Event is one interaction. Value is the explicit rating when the source has one, NaN otherwise.
// Type indexes the data set's EventTypes (0 when the source has no event column); it lives in
// what was padding, so an Event stays 24 bytes.
type Event struct {
	User  int32
	Item  int32
	Time  int64 // Unix seconds
	Value float32
	Type  uint8
}

// HasValue reports whether the event carries an explicit rating.
func (e Event) HasValue() bool { return !math.IsNaN(float64(e.Value)) }

// Dict maps external string IDs to dense int32 IDs and back.
type Dict struct {
	ids   []string
	index map[string]int32
}

// NewDict returns an empty dictionary.
func NewDict() *Dict { return &Dict{index: make(map[string]int32)} }

// Add returns the dense ID of s, assigning the next one if s is new.
func (d *Dict) Add(s string) int32 {
	if id, ok := d.index[s]; ok {
		return id
	}
	id := int32(len(d.ids))
	d.ids = append(d.ids, s)
	d.index[s] = id
	return id
}

// Lookup returns the dense ID of s and whether it is known.
func (d *Dict) Lookup(s string) (int32, bool) {
	id, ok := d.index[s]
	return id, ok
}

// String returns the external ID of dense ID id.
func (d *Dict) String(id int32) string { return d.ids[id] }

// Len is the number of IDs.
func (d *Dict) Len() int { return len(d.ids) }

// IDs returns the external IDs in dense order. The slice must not be modified.
func (d *Dict) IDs() []string { return d.ids }

// Attributes is a table of per-entity (item or user) attributes: categorical columns, each
// possibly multi-valued (genres), and numeric columns. Rows are indexed by the entity's dense ID;
// an entity without a row has no categorical values and NaN numerics.
type Attributes struct {
	Categorical []CategoricalColumn
	Numeric     []NumericColumn
}

// AttrValues are one entity's attributes by column name, as a catalog update carries them for an
// item the data set's files do not hold (the columns are the data set's; a categorical value is
// a string, as in the files).
type AttrValues struct {
	Categorical map[string][]string
	Numeric     map[string]float64
}

// Of returns entity id's attributes by column name (empty maps when it has none).
func (a *Attributes) Of(id int32) AttrValues {
	v := AttrValues{Categorical: map[string][]string{}, Numeric: map[string]float64{}}
	if a == nil {
		return v
	}
	for _, c := range a.Categorical {
		if int(id) < len(c.Values) {
			for _, x := range c.Values[id] {
				v.Categorical[c.Name] = append(v.Categorical[c.Name], c.Dict.String(x))
			}
		}
	}
	for _, c := range a.Numeric {
		if int(id) < len(c.Values) && !math.IsNaN(float64(c.Values[id])) {
			v.Numeric[c.Name] = float64(c.Values[id])
		}
	}
	return v
}

// CategoricalColumn holds one categorical attribute. Values[id] lists the dense value IDs of
// entity id (empty when it has none).
type CategoricalColumn struct {
	Name   string
	Dict   *Dict
	Values [][]int32
}

// NumericColumn holds one numeric attribute; Values[id] is NaN when unknown.
type NumericColumn struct {
	Name   string
	Values []float32
}

// Column returns the categorical column called name, or nil.
func (a *Attributes) Column(name string) *CategoricalColumn {
	if a == nil {
		return nil
	}
	for i := range a.Categorical {
		if a.Categorical[i].Name == name {
			return &a.Categorical[i]
		}
	}
	return nil
}

// Grow extends every column to n rows (new rows empty / NaN).
func (a *Attributes) Grow(n int) {
	if a == nil {
		return
	}
	for i := range a.Categorical {
		c := &a.Categorical[i]
		for len(c.Values) < n {
			c.Values = append(c.Values, nil)
		}
	}
	for i := range a.Numeric {
		c := &a.Numeric[i]
		for len(c.Values) < n {
			c.Values = append(c.Values, float32(math.NaN()))
		}
	}
}

// Dataset is a loaded interaction log with its dictionaries and attributes.
type Dataset struct {
	Name string // e.g. "ml-100k", the directory's base name
	// Dir is the directory Load read (empty for a data set built in memory): logs kept beside
	// the data (a served log, a world's impressions.jsonl) are found there.
	Dir    string
	Format string // the detected loader: "ml-100k", "ml-1m", "ml-latest", "generic"
	Users  *Dict
	Items  *Dict
	// Events in time order; ties keep the order of the source file (stable sort).
	Events    []Event
	HasValues bool
	// EventTypes names the event types (Event.Type indexes it), in order of first appearance in
	// the file; nil when the source has no event column. Types dropped at load
	// (LoadOptions.DropTypes) keep their names here.
	EventTypes *Dict
	// Dropped counts the events left out by LoadOptions.DropTypes.
	Dropped   int
	ItemAttrs *Attributes // nil when the source has none
	UserAttrs *Attributes // nil when the source has none
	// ItemTitles holds display names where the source has them (may be nil).
	ItemTitles []string
	// Skipped counts malformed rows left out because LoadOptions.SkipMalformed was set;
	// SkippedRows names the first ten (file, line, field and why), which are also logged.
	Skipped     int
	SkippedRows []ParseError
}

// NumUsers and NumItems are the dictionary sizes (all users/items ever seen, attributes included).
func (d *Dataset) NumUsers() int { return d.Users.Len() }
func (d *Dataset) NumItems() int { return d.Items.Len() }

func (d *Dataset) String() string {
	return fmt.Sprintf("%s (%s): %d events, %d users, %d items", d.Name, d.Format, len(d.Events), d.NumUsers(), d.NumItems())
}
