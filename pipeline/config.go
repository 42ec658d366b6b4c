package pipeline

import (
	"errors"
	"sort"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// Config is a parsed pipeline file.
type Config struct {
	Name     string                 `yaml:"name"`
	Dataset  DatasetConfig          `yaml:"dataset"`
	Split    SplitConfig            `yaml:"split"`
	Models   map[string]ModelConfig `yaml:"models"`
	Retrieve RetrieveConfig         `yaml:"retrieve"`
	// Fallback names the model that answers requests whose history holds no known item
	// (replay-v1 §3); empty means a popularity model trained for the purpose.
	Fallback string       `yaml:"fallback"`
	Filter   FilterConfig `yaml:"filter"`
	// Features is the feature stage; it is required by rankers.
	Features *FeaturesConfig `yaml:"features"`
	// Rankers run in order over the candidates; each one's score is a feature of the next.
	Rankers     []RankerConfig    `yaml:"rankers"`
	RankingData RankingDataConfig `yaml:"ranking_data"`
	Final       FinalConfig       `yaml:"final"`
	Tuning      TuningConfig      `yaml:"tuning"`
	// Ratings is the protocol of a ratings file (one whose model predicts explicit ratings, e.g.
	// explicit_mf on Coat); ranking files ignore it.
	Ratings RatingsConfig `yaml:"ratings"`
	// Variants split users between versions of the pipeline served from the same bundle
	// (variants.go); VariantSalt seeds the split (default: the file's name).
	Variants    []VariantConfig `yaml:"variants"`
	VariantSalt string          `yaml:"variant_salt"`
	// Events weighs, drops and picks positives among the data's event types (events.go).
	Events EventsConfig `yaml:"events"`

	// path, source and file keep the text for error positions and the manifest.
	path   string
	source string
	file   *ast.File
}

// DatasetConfig says where the events come from.
type DatasetConfig struct {
	// Path is a data set directory; relative paths are resolved against the pipeline file's
	// directory. Empty means the synthetic world described by Synthetic.
	Path          string          `yaml:"path"`
	Format        string          `yaml:"format"`
	SkipMalformed bool            `yaml:"skip_malformed"`
	Synthetic     SyntheticConfig `yaml:"synthetic"`
}

// SyntheticConfig sizes the generated world used when no data path is given.
type SyntheticConfig struct {
	Users  int   `yaml:"users"`
	Items  int   `yaml:"items"`
	Events int   `yaml:"events"`
	Seed   int64 `yaml:"seed"`
	// EventTypes gives the world an event column (view, cart, buy; synth.EventType).
	EventTypes bool `yaml:"event_types"`
}

// SplitConfig holds the temporal split fractions; replay-v1 fixes both at 0.9.
type SplitConfig struct {
	TrainFraction      float64 `yaml:"train_fraction"`
	ValidationFraction float64 `yaml:"validation_fraction"`
}

// ModelConfig declares one model. Any parameter may be a list of values: the model is then
// trained once per combination on the validation split and the best kept.
type ModelConfig struct {
	Type   string         `yaml:"type"`
	Params map[string]any `yaml:"params"`
}

// RetrieveConfig is the candidate stage: sources merged into one list.
type RetrieveConfig struct {
	Sources []SourceConfig `yaml:"sources"`
	// BudgetMS bounds each source; a source over budget or failing is replaced by the fallback
	// model's list (counted).
	BudgetMS float64 `yaml:"budget_ms"`
	// Merge is how source lists combine: "interleave" (round-robin by rank, the default) or
	// "concat" (source order). Duplicates keep their first position.
	Merge string `yaml:"merge"`
}

// FilterConfig removes candidates before they are ranked.
type FilterConfig struct {
	// ExcludeSeen drops items already in the request's history (replay-v1's rule); default true.
	ExcludeSeen *bool `yaml:"exclude_seen"`
	// Exclude lists external item IDs never to recommend.
	Exclude []string `yaml:"exclude"`
	// Rules drop items by attribute.
	Rules []FilterRule `yaml:"rules"`
	// BudgetMS bounds the stage; over budget, the unfiltered list goes on (counted).
	BudgetMS float64 `yaml:"budget_ms"`
}

// FilterRule drops items whose categorical column holds one of Values, or whose numeric column
// lies outside [Min, Max].
type FilterRule struct {
	Column string   `yaml:"column"`
	Values []string `yaml:"exclude"`
	Min    *float64 `yaml:"min"`
	Max    *float64 `yaml:"max"`
}

// FeaturesConfig is the feature stage: features.Config parameters, computed over the same
// window as the first-stage models.
type FeaturesConfig struct {
	Params   map[string]any `yaml:"params"`
	BudgetMS float64        `yaml:"budget_ms"`
}

// RankerConfig is one ranking stage.
type RankerConfig struct {
	Name   string         `yaml:"name"`
	Type   string         `yaml:"type"` // attention | lightgbm
	Params map[string]any `yaml:"params"`
	// Keep truncates the list to the ranker's top Keep (0 keeps every candidate).
	Keep int `yaml:"keep"`
	// BudgetMS bounds the ranker; over budget the previous order is kept (counted).
	BudgetMS float64 `yaml:"budget_ms"`
	// ItemInit, for attention, names a first-stage model whose item vectors initialise the
	// ranker's item table (iALS factors or two-tower item embeddings of the validation window;
	// their size must equal the ranker's dim). With freeze_items they stay fixed, which on small
	// logs beats learning the table (docs/benchmarks.md).
	ItemInit string `yaml:"item_init"`
	// Optional lets validation drop the stage: the stack is trained and replayed on the
	// validation split with and without it, and the better kept (README, "Choosing the ranking
	// stack").
	Optional bool `yaml:"optional"`
	// DropFeatures lists features the ranker does not read (names or families, as
	// features.params.features takes them). A list of such lists is a grid validation picks from.
	DropFeatures []any `yaml:"drop_features"`
	// Model, for lightgbm, names a LightGBM model.txt (trained elsewhere, e.g. on `cascade
	// export-ltr` data) to use instead of training one; its feature names must match the schema.
	Model string `yaml:"model"`
}

// RankingDataConfig says how ranker training data is made. With source "candidates" (the
// default) the candidate and feature stages,
// trained on the validation split's train part, run at each validation event; the target and
// whatever the user takes within HorizonDays are the positives, the other candidates negatives.
// The default horizon 0 keeps the target (and events at the same instant) alone: the next item,
// which replay-v1 scores, and on MovieLens far better than a week's items (docs/benchmarks.md).
// HorizonDays and MaxPerUser may be lists: validation then picks the value (chooseStack).
//
// With source "impressions" the requests are the slates a log showed in the same window (a served
// log, or a synthetic world's impressions.jsonl): the shown items are the candidates, a logged
// click or an item the user takes within WindowHours a positive, shown and not taken a negative;
// features are the candidate-based source's (ranker.BuildImpressions).
type RankingDataConfig struct {
	// Source is "candidates" or "impressions".
	Source string `yaml:"source"`
	// Log is the impressions log for source impressions (relative to the pipeline file); empty:
	// impressions.jsonl, else served.jsonl, in the data set's directory.
	Log string `yaml:"log"`
	// WindowHours: an item the user takes at most this long after a slate showed it is a
	// positive of that slate (the latest one showing it), clicked or not.
	WindowHours float64 `yaml:"window_hours"`
	// PositionFeature gives the rankers the shown position as a training-only feature: serving
	// fills the column with ranker.ServePosition (1) for every candidate, so that the order is
	// by the item, not by where the log happened to show it.
	PositionFeature bool `yaml:"position_feature"`
	// PropensityWeighting weighs each shown item by its inverse logging propensity (floored at
	// ranker.MinPropensity, averaged to 1); lightgbm rankers only.
	PropensityWeighting bool               `yaml:"propensity_weighting"`
	HorizonDays         OneOrMore[float64] `yaml:"horizon_days"`
	// MaxRequests caps the requests used (evenly spaced over the window); 0 = all.
	MaxRequests int `yaml:"max_requests"`
	// MaxPerUser caps each user's requests (evenly spaced over the user's events in the window),
	// applied before MaxRequests, so that heavy users do not dominate what rankers learn; 0 = no
	// cap.
	MaxPerUser OneOrMore[int] `yaml:"max_requests_per_user"`
	// Negatives keeps at most this many proposed negatives per request for training (uniformly
	// sampled; every positive is kept); 0 = all.
	Negatives int `yaml:"negatives"`
	// RandomNegatives adds uniformly random catalog items as extra negatives, as a share of the
	// kept negatives (0: rankers learn only from what was proposed); with source impressions, a
	// share of the shown items (neither shown nor in the history).
	RandomNegatives float64 `yaml:"random_negatives"`
	// StackFraction is the share of requests (the earlier ones) the first ranker trains on; the
	// later ones train the next ranker on the first one's scores, so that a stacked score is
	// never judged on its own training data.
	StackFraction float64 `yaml:"stack_fraction"`
	// ValidFraction is each ranker's share of its requests (the latest) kept for early stopping.
	ValidFraction float64 `yaml:"valid_fraction"`
	Seed          uint64  `yaml:"seed"`
}

// Ranking data sources.
const (
	SourceCandidates  = "candidates"
	SourceImpressions = "impressions"
)

// positionColumn says whether the rankers read the shown position (served as a constant).
func (rd RankingDataConfig) positionColumn() bool {
	return rd.Source == SourceImpressions && rd.PositionFeature
}

// OneOrMore is a value, or a list of values for validation to choose from.
type OneOrMore[T any] []T

// UnmarshalYAML takes a scalar as a one-value list.
func (o *OneOrMore[T]) UnmarshalYAML(unmarshal func(any) error) error {
	var list []T
	listErr := unmarshal(&list)
	if listErr == nil {
		*o = list
		return nil
	}
	var v T
	if err := unmarshal(&v); err != nil {
		// A list with a bad element is reported at that element; anything else is a bad value.
		var nt *yaml.UnexpectedNodeTypeError
		if !errors.As(listErr, &nt) {
			return listErr
		}
		return err
	}
	*o = OneOrMore[T]{v}
	return nil
}

// oneOrMore marks the type for describe: a value or a list of values.
func (OneOrMore[T]) oneOrMore() {}

// SourceConfig is one candidate source: a model and how many candidates it proposes.
type SourceConfig struct {
	Model string `yaml:"model"`
	K     int    `yaml:"k"`
	// QueryRefreshHours reuses a user's query embedding (two-tower) until this many hours of
	// request time have passed since it was computed; 0 computes it on every request. Serving
	// only: it needs no retraining (queryrefresh.go).
	QueryRefreshHours float64 `yaml:"query_refresh_hours"`
}

// FinalConfig sizes the answer.
type FinalConfig struct {
	K int `yaml:"k"`
}

// TuningConfig picks the validation metric that grids are judged by, and how a model's grid is
// searched.
type TuningConfig struct {
	Metric string `yaml:"metric"`
	// Strategy is "grid" (every combination trained on its full budget) or "halving" (successive
	// halving over the model's training budget, halving.go).
	Strategy string `yaml:"strategy"`
	// Eta is halving's factor: each rung keeps the best 1/Eta of the combinations and trains them
	// on Eta times the budget.
	Eta int `yaml:"eta"`
}

// RatingsConfig is how a ratings file's grid is chosen: on a seeded random holdout of the
// training ratings (Coat's train ratings carry no time), never on the test ratings.
type RatingsConfig struct {
	Holdout float64 `yaml:"holdout"` // share of the training ratings held out for validation
	// Folds ≥ 2 replaces the holdout by cross-validation over that many folds (errors pooled).
	Folds int    `yaml:"folds"`
	Seed  uint64 `yaml:"seed"` // draws the holdout or the folds
}

// Tuning strategies.
const (
	StrategyGrid    = "grid"
	StrategyHalving = "halving"
)

// defaultConfig holds every default; the file is decoded over it, so that an explicit zero
// (negatives: 0 meaning all, say) stays zero.
func defaultConfig() Config {
	t := true
	return Config{
		Name:     "pipeline",
		Dataset:  DatasetConfig{Format: "auto", Synthetic: SyntheticConfig{Users: 1500, Items: 1200, Events: 100_000, Seed: 1}},
		Split:    SplitConfig{TrainFraction: 0.9, ValidationFraction: 0.9},
		Retrieve: RetrieveConfig{Merge: "interleave"},
		Filter:   FilterConfig{ExcludeSeen: &t},
		RankingData: RankingDataConfig{
			Source: SourceCandidates, WindowHours: 24, PositionFeature: true,
			HorizonDays: OneOrMore[float64]{0}, MaxPerUser: OneOrMore[int]{0}, MaxRequests: 8000, Negatives: 100, StackFraction: 0.5, ValidFraction: 0.2, Seed: 1,
		},
		Final:   FinalConfig{K: 100},
		Tuning:  TuningConfig{Metric: "ndcg@10", Strategy: StrategyGrid, Eta: 3},
		Ratings: RatingsConfig{Holdout: 0.2, Seed: 1},
	}
}

// FallbackModel names the model that answers histories with no known item: the file's fallback,
// else its first popularity model, else the popularity model Train adds under fallbackName.
func (c *Config) FallbackModel() string {
	if c.Fallback != "" {
		return c.Fallback
	}
	for _, n := range c.ModelNames() {
		if c.Models[n].Type == "popularity" {
			return n
		}
	}
	return fallbackName
}

// ModelNames lists the declared models in a stable order.
func (c *Config) ModelNames() []string {
	names := make([]string, 0, len(c.Models))
	for n := range c.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
