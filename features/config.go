package features

import (
	"fmt"
	"math"
	"strings"

	"github.com/cascade-rec/cascade/params"
)

// Config chooses the features and sizes the statistics behind them. Start from DefaultConfig:
// the zero value is not valid.
type Config struct {
	// Features lists what to compute: feature names ("log_prior", "score_ials") or family names
	// ("score", "rank", "pmi", "src", "srcscore", "srcrank", "attr", "attrdiff"), which enable
	// every feature of the family. Empty enables everything.
	Features []string `yaml:"features"`
	// HalfLifeDays is log_prior_decayed's half-life.
	HalfLifeDays float64 `yaml:"half_life_days"`
	// RecentDays is item_recent_pop's window: events in [t − RecentDays, t).
	RecentDays float64 `yaml:"recent_days"`
	// CoocTopK bounds each item's co-occurrence neighbour list (the K most frequent partners).
	CoocTopK int `yaml:"cooc_top_k"`
	// CoocWindow pairs each event with the CoocWindow events before and after it in its user's
	// sequence; 0 pairs all of a user's events (Σ n_u² work and memory, and a weaker signal).
	CoocWindow int `yaml:"cooc_window"`
	// CoocHistory is L, the number of most recent distinct history items the cooc features read.
	CoocHistory int `yaml:"cooc_history"`
	// AttributeColumn is the categorical item column of genre_share and genre_match_max.
	AttributeColumn string `yaml:"attribute_column"`
	// NumericColumns are the numeric item columns of attr_* and attrdiff_*; empty takes every
	// numeric column of the data set.
	NumericColumns []string `yaml:"numeric_columns"`
}

// DefaultConfig returns the defaults: every feature, a 30-day half-life, a 7-day recent window,
// 100 co-occurrence neighbours per item from pairs at most 5 events apart, read for the 5 most
// recent distinct history items, and the "genres" column. The co-occurrence values won a probe
// on MovieLens (docs/benchmarks.md): short windows and recent items rank better than
// whole histories, and need a fraction of the memory.
func DefaultConfig() Config {
	return Config{
		HalfLifeDays:    30,
		RecentDays:      7,
		CoocTopK:        100,
		CoocWindow:      5,
		CoocHistory:     5,
		AttributeColumn: "genres",
	}
}

// Bounds that keep a typo in a config from asking for gigabytes.
const (
	maxTopK    = 1 << 16
	maxHistory = 1 << 16
)

// Validate reports the first invalid field as a params.FieldError naming its YAML key.
func (c Config) Validate() error {
	switch {
	case !(c.HalfLifeDays > 0) || math.IsInf(c.HalfLifeDays, 0):
		return params.Errorf("half_life_days", "must be a finite number > 0, got %v", c.HalfLifeDays)
	case !(c.RecentDays > 0) || math.IsInf(c.RecentDays, 0):
		return params.Errorf("recent_days", "must be a finite number > 0, got %v", c.RecentDays)
	case c.CoocTopK < 1 || c.CoocTopK > maxTopK:
		return params.Errorf("cooc_top_k", "must be in [1, %d], got %d", maxTopK, c.CoocTopK)
	case c.CoocWindow < 0:
		return params.Errorf("cooc_window", "must be ≥ 0 (0 = whole user history), got %d", c.CoocWindow)
	case c.CoocHistory < 1 || c.CoocHistory > maxHistory:
		return params.Errorf("cooc_history", "must be in [1, %d], got %d", maxHistory, c.CoocHistory)
	case c.AttributeColumn == "":
		return params.Errorf("attribute_column", "must name a categorical item column, got an empty name")
	}
	seen := make(map[string]bool, len(c.Features))
	for i, f := range c.Features {
		if seen[f] {
			return params.Errorf(fmt.Sprintf("features[%d]", i), "%q is listed twice", f)
		}
		seen[f] = true
		if !knownSelector(f) {
			return params.Errorf(fmt.Sprintf("features[%d]", i), "unknown feature or family %q (known: %s)", f, strings.Join(selectorNames(), ", "))
		}
	}
	for i, col := range c.NumericColumns {
		if col == "" {
			return params.Errorf(fmt.Sprintf("numeric_columns[%d]", i), "empty column name")
		}
	}
	return nil
}

// enabled reports whether the feature name (of family fam, "" for a fixed feature) is selected.
func (c *Config) enabled(name, fam string) bool {
	if len(c.Features) == 0 {
		return true
	}
	for _, f := range c.Features {
		if f == name || (fam != "" && f == fam) {
			return true
		}
	}
	return false
}

// explicit reports whether name was listed itself (not through "everything" or a family), so
// that a missing input for it is an error rather than a silently absent column.
func (c *Config) explicit(name string) bool {
	for _, f := range c.Features {
		if f == name {
			return true
		}
	}
	return false
}

// knownSelector reports whether s names a fixed feature, a family, or a member of a family.
func knownSelector(s string) bool {
	if _, ok := fixedIndex(s); ok {
		return true
	}
	for _, f := range families {
		if s == f.name || (strings.HasPrefix(s, f.name+"_") && len(s) > len(f.name)+1) {
			return true
		}
	}
	return false
}

func selectorNames() []string {
	var names []string
	for _, f := range fixed {
		names = append(names, f.name)
	}
	for _, f := range families {
		names = append(names, f.name+"_*")
	}
	return names
}

// Selects reports whether the selector s — a feature name, a family name, or a family member, as
// Config.Features takes them — picks the feature called name. Rankers use it to leave columns out.
func Selects(s, name string) bool {
	if s == name {
		return true
	}
	for _, f := range families {
		if s == f.name && strings.HasPrefix(name, f.name+"_") {
			return true
		}
	}
	return false
}

// ValidSelector reports whether s names a fixed feature, a family, or a member of a family.
func ValidSelector(s string) bool { return knownSelector(s) }
