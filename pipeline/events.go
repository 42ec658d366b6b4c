package pipeline

import (
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"

	"github.com/cascade-rec/cascade/dataset"
)

// EventsConfig says what the event types of the data (the generic format's event column) mean:
// a weight per type, types dropped at load, and which types are positives. Data without types
// and a file without this section behave as before it existed.
type EventsConfig struct {
	// Types gives each named type a weight (iALS confidence 1 + α·Σ weight over a user–item
	// pair's events; default 1) or drops it: its events are removed at load, for every model,
	// feature, split and replay. Types the file does not name weigh 1.
	Types map[string]EventTypeConfig `yaml:"types"`
	// Positives, when given, are the types a positive is made of: the two-tower's training
	// targets and the ranker labels (requests at their events only). Other types are history.
	// Replay's targets are every event that was not dropped, whatever the positives.
	Positives []string `yaml:"positives"`
}

// EventTypeConfig is one event type's role.
type EventTypeConfig struct {
	Weight *float64 `yaml:"weight"`
	Drop   bool     `yaml:"drop"`
}

// declared reports whether the file has an events section with content.
func (e EventsConfig) declared() bool { return len(e.Types) > 0 || len(e.Positives) > 0 }

// typeNames lists the named types in a stable order.
func (e EventsConfig) typeNames() []string { return slices.Sorted(maps.Keys(e.Types)) }

// dropped lists the types the file drops, for dataset.LoadOptions.DropTypes.
func (e EventsConfig) dropped() []string {
	var out []string
	for _, n := range e.typeNames() {
		if e.Types[n].Drop {
			out = append(out, n)
		}
	}
	return out
}

// validateEvents checks the section on its own; names are checked against the data at load
// (resolveEvents), where the types are known.
func (c *Config) validateEvents() error {
	ev := c.Events
	for _, name := range ev.typeNames() {
		t, key := ev.Types[name], "events.types."+name
		switch {
		case name == "":
			return c.errorf("events.types", "an event type needs a name")
		case t.Drop && t.Weight != nil:
			return c.errorf(key+".weight", "a dropped type takes no weight (its events are removed at load)")
		case t.Weight != nil && !(*t.Weight > 0 && !math.IsInf(*t.Weight, 0)):
			return c.errorf(key+".weight", "must be a finite number > 0, got %v (to ignore a type, drop it)", *t.Weight)
		}
	}
	seen := map[string]bool{}
	for i, name := range ev.Positives {
		key := fmt.Sprintf("events.positives[%d]", i)
		switch {
		case name == "":
			return c.errorf(key, "an event type needs a name")
		case seen[name]:
			return c.errorf(key, "%q is listed twice", name)
		case ev.Types[name].Drop:
			return c.errorf(key, "%q is dropped at load (events.types.%s.drop), so it cannot be a positive", name, name)
		}
		seen[name] = true
	}
	return nil
}

// eventPolicy is the events section resolved against a data set's types.
type eventPolicy struct {
	weights   dataset.TypeWeights // nil: every event weighs 1
	positives dataset.TypeSet     // nil: every event is a positive
}

// resolveEvents maps the section's type names to ds's type indexes. A name the data does not
// hold is an error at its key, not a warning: a misspelt "purchase" would otherwise silently
// leave every weight at 1. Events of a dropped type still present mean the data was not loaded
// by LoadData (or with dataset.LoadOptions.DropTypes), which is an error too.
func (c *Config) resolveEvents(ds *dataset.Dataset, log *slog.Logger) (eventPolicy, error) {
	ev := c.Events
	if !ev.declared() {
		return eventPolicy{}, nil
	}
	index := func(key, name string) (uint8, error) {
		i, err := ds.TypeIndex(name)
		if err != nil {
			return 0, c.errorf(key, "%v", err)
		}
		return i, nil
	}
	var pol eventPolicy
	counts := ds.TypeCounts()
	for _, name := range ev.typeNames() {
		key := "events.types." + name
		i, err := index(key, name)
		if err != nil {
			return eventPolicy{}, err
		}
		t := ev.Types[name]
		if t.Drop && counts[i] > 0 {
			return eventPolicy{}, c.errorf(key+".drop", "data set %s still holds %d events of type %q: load it with the pipeline's LoadData (or dataset.LoadOptions.DropTypes)", ds.Name, counts[i], name)
		}
		if t.Weight != nil {
			if pol.weights == nil {
				pol.weights = make(dataset.TypeWeights, ds.EventTypes.Len())
				for k := range pol.weights {
					pol.weights[k] = 1
				}
			}
			pol.weights[i] = float32(*t.Weight)
		}
	}
	for k, name := range ev.Positives {
		i, err := index(fmt.Sprintf("events.positives[%d]", k), name)
		if err != nil {
			return eventPolicy{}, err
		}
		if pol.positives == nil {
			pol.positives = make(dataset.TypeSet, ds.EventTypes.Len())
		}
		pol.positives[i] = true
	}
	if log != nil {
		var unnamed []string
		for k, name := range ds.EventTypes.IDs() {
			if _, ok := ev.Types[name]; !ok && counts[k] > 0 {
				unnamed = append(unnamed, name)
			}
		}
		if len(unnamed) > 0 {
			log.Info("event types the pipeline file does not name weigh 1", "types", unnamed)
		}
	}
	return pol, nil
}
