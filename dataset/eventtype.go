package dataset

import (
	"fmt"
	"strconv"
	"strings"
)

// Event types: a generic events.csv may name each event's kind (view, click, cart, buy, …) in an
// `event` (or `event_type`) column. A data set keeps the names once, in Dataset.EventTypes, and
// each event only the name's index (Event.Type), so that a 10M-event log costs no more memory.
// Data without the column has one implicit type: EventTypes is nil and every Type is 0.

// MaxEventTypes bounds the distinct names of an event column. Event kinds are a short list; more
// names usually mean the column holds something else (a free-text field, an ID), which is better
// said at load than discovered as 10,000 "types".
const MaxEventTypes = 64

// TypeWeights gives each event type (indexed by Event.Type) a weight. A nil table, or a type
// beyond it, weighs 1: data without types trains exactly as an unweighted log.
type TypeWeights []float32

// Of is the weight of event type t.
func (w TypeWeights) Of(t uint8) float32 {
	if int(t) < len(w) {
		return w[t]
	}
	return 1
}

// TypeSet is a set of event types (indexed by Event.Type). A nil set holds every type, so that
// "no restriction" needs no table.
type TypeSet []bool

// Has reports whether t is in the set.
func (s TypeSet) Has(t uint8) bool { return s == nil || (int(t) < len(s) && s[t]) }

// TypeIndex is the index (Event.Type) of the event type called name in d's EventTypes.
func (d *Dataset) TypeIndex(name string) (uint8, error) {
	if d.EventTypes == nil {
		return 0, fmt.Errorf("data set %s has no event column (the generic events.csv takes an optional event column)", d.Name)
	}
	id, ok := d.EventTypes.Lookup(name)
	if !ok {
		return 0, fmt.Errorf("data set %s has no events of type %q (its types: %s)", d.Name, name, joinQuoted(d.EventTypes.IDs()))
	}
	return uint8(id), nil
}

// TypeCounts counts the events of each type (indexed by Event.Type); one entry for data without
// types.
func (d *Dataset) TypeCounts() []int {
	n := 1
	if d.EventTypes != nil {
		n = max(1, d.EventTypes.Len())
	}
	counts := make([]int, n)
	for _, e := range d.Events {
		counts[e.Type]++
	}
	return counts
}

func joinQuoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
