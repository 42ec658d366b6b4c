// Package pipeline owns the pipeline file — the YAML that declares a data set, the split, named
// models with their parameters and tuning grids, and the stages a request flows through — and the
// machinery built from it: training every model in the right order with validation-based tuning,
// the model bundle on disk (artifacts + manifest.json), and the assembled recommender that replay
// and the server call.
package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/cascade-rec/cascade/features"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
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

// RankingDataConfig says how ranker training data is made: the candidate and feature stages,
// trained on the validation split's train part, run at each validation event; the target and
// whatever the user takes within HorizonDays are the positives, the other candidates negatives.
// The default horizon 0 keeps the target (and events at the same instant) alone: the next item,
// which replay-v1 scores, and on MovieLens far better than a week's items (docs/benchmarks.md).
// HorizonDays and MaxPerUser may be lists: validation then picks the value (chooseStack).
type RankingDataConfig struct {
	HorizonDays OneOrMore[float64] `yaml:"horizon_days"`
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
	// kept negatives (0: rankers learn only from what was proposed).
	RandomNegatives float64 `yaml:"random_negatives"`
	// StackFraction is the share of requests (the earlier ones) the first ranker trains on; the
	// later ones train the next ranker on the first one's scores, so that a stacked score is
	// never judged on its own training data.
	StackFraction float64 `yaml:"stack_fraction"`
	// ValidFraction is each ranker's share of its requests (the latest) kept for early stopping.
	ValidFraction float64 `yaml:"valid_fraction"`
	Seed          uint64  `yaml:"seed"`
}

// OneOrMore is a value, or a list of values for validation to choose from.
type OneOrMore[T any] []T

// UnmarshalYAML takes a scalar as a one-value list.
func (o *OneOrMore[T]) UnmarshalYAML(unmarshal func(any) error) error {
	var list []T
	if err := unmarshal(&list); err == nil {
		*o = list
		return nil
	}
	var v T
	if err := unmarshal(&v); err != nil {
		return err
	}
	*o = OneOrMore[T]{v}
	return nil
}

// grid expands the ranking data's lists into one configuration per combination, the file's
// first values first.
func (rd RankingDataConfig) grid() []RankingDataConfig {
	var out []RankingDataConfig
	for _, h := range rd.HorizonDays {
		for _, u := range rd.MaxPerUser {
			v := rd
			v.HorizonDays, v.MaxPerUser = OneOrMore[float64]{h}, OneOrMore[int]{u}
			out = append(out, v)
		}
	}
	return out
}

// label names rd's values among the grid's (empty when there is no grid).
func (rd RankingDataConfig) label(all RankingDataConfig) string {
	var parts []string
	if len(all.HorizonDays) > 1 {
		parts = append(parts, fmt.Sprintf("horizon_days=%v", rd.HorizonDays[0]))
	}
	if len(all.MaxPerUser) > 1 {
		parts = append(parts, fmt.Sprintf("max_requests_per_user=%v", rd.MaxPerUser[0]))
	}
	return strings.Join(parts, ", ")
}

// SourceConfig is one candidate source: a model and how many candidates it proposes.
type SourceConfig struct {
	Model string `yaml:"model"`
	K     int    `yaml:"k"`
}

// FinalConfig sizes the answer.
type FinalConfig struct {
	K int `yaml:"k"`
}

// TuningConfig picks the validation metric that grids are judged by.
type TuningConfig struct {
	Metric string `yaml:"metric"`
}

// ConfigError is a problem in a pipeline file, located by file, line and key.
type ConfigError struct {
	File string
	Line int // 0 when unknown
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// LoadConfig reads and validates a pipeline file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline file: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses and validates pipeline YAML; path names the source in errors.
func ParseConfig(path string, data []byte) (*Config, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, &ConfigError{File: path, Msg: yaml.FormatError(err, false, true)}
	}
	cfg := new(Config)
	*cfg = defaultConfig()
	cfg.path, cfg.source, cfg.file = path, string(data), file
	if err := yaml.UnmarshalWithOptions(data, cfg, yaml.Strict()); err != nil {
		return nil, &ConfigError{File: path, Msg: yaml.FormatError(err, false, true)}
	}
	if cfg.Filter.ExcludeSeen == nil { // an explicit null
		t := true
		cfg.Filter.ExcludeSeen = &t
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

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
			HorizonDays: OneOrMore[float64]{0}, MaxPerUser: OneOrMore[int]{0}, MaxRequests: 8000, Negatives: 100, StackFraction: 0.5, ValidFraction: 0.2, Seed: 1,
		},
		Final:  FinalConfig{K: 100},
		Tuning: TuningConfig{Metric: "ndcg@10"},
	}
}

// errAt builds a ConfigError located at the YAML path (e.g. "$.models.ials.params.alpha").
func (c *Config) errAt(yamlPath, key, format string, args ...any) error {
	return &ConfigError{File: c.path, Line: c.line(yamlPath), Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (c *Config) line(yamlPath string) int {
	if c.file == nil {
		return 0
	}
	p, err := yaml.PathString(yamlPath)
	if err != nil {
		return 0
	}
	n, err := p.FilterFile(c.file)
	if err != nil || n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
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

func (c *Config) validate() error {
	if f := c.Split.TrainFraction; f <= 0 || f >= 1 {
		return c.errAt("$.split.train_fraction", "split.train_fraction", "must be in (0, 1), got %v", f)
	}
	if f := c.Split.ValidationFraction; f <= 0 || f >= 1 {
		return c.errAt("$.split.validation_fraction", "split.validation_fraction", "must be in (0, 1), got %v", f)
	}
	s := c.Dataset.Synthetic
	if s.Users < 1 || s.Items < 2 || s.Events < 1 {
		return c.errAt("$.dataset.synthetic", "dataset.synthetic", "users, items and events must be positive")
	}
	if len(c.Models) == 0 {
		return c.errAt("$", "models", "at least one model is required")
	}
	for _, name := range c.ModelNames() {
		m := c.Models[name]
		base := "$.models." + name
		kind, ok := kinds[m.Type]
		if !ok {
			return c.errAt(base+".type", "models."+name+".type", "unknown model type %q (known: %s)", m.Type, strings.Join(kindNames(), ", "))
		}
		if _, err := c.grid(name, kind); err != nil {
			return err
		}
	}
	if len(c.Retrieve.Sources) == 0 {
		return c.errAt("$", "retrieve.sources", "at least one source is required")
	}
	for i, s := range c.Retrieve.Sources {
		p := fmt.Sprintf("$.retrieve.sources[%d]", i)
		key := fmt.Sprintf("retrieve.sources[%d]", i)
		m, ok := c.Models[s.Model]
		if !ok {
			return c.errAt(p+".model", key+".model", "no model named %q (declared: %s)", s.Model, strings.Join(c.ModelNames(), ", "))
		}
		if !kinds[m.Type].source {
			return c.errAt(p+".model", key+".model", "model %q of type %s cannot propose candidates", s.Model, m.Type)
		}
		if s.K <= 0 || s.K > 100_000 {
			return c.errAt(p+".k", key+".k", "must be in 1..100000, got %d", s.K)
		}
	}
	if c.Retrieve.Merge != "interleave" && c.Retrieve.Merge != "concat" {
		return c.errAt("$.retrieve.merge", "retrieve.merge", "must be interleave or concat, got %q", c.Retrieve.Merge)
	}
	if c.Fallback != "" {
		m, ok := c.Models[c.Fallback]
		if !ok {
			return c.errAt("$.fallback", "fallback", "no model named %q", c.Fallback)
		}
		if !kinds[m.Type].source {
			return c.errAt("$.fallback", "fallback", "model %q of type %s cannot propose candidates", c.Fallback, m.Type)
		}
	}
	if err := c.validateStages(); err != nil {
		return err
	}
	if c.Final.K <= 0 || c.Final.K > 10_000 {
		return c.errAt("$.final.k", "final.k", "must be in 1..10000, got %d", c.Final.K)
	}
	if !validMetric(c.Tuning.Metric) {
		return c.errAt("$.tuning.metric", "tuning.metric", "unknown metric %q (want hr@K, ndcg@K or mrr@K with K in 10, 20, 50, 100)", c.Tuning.Metric)
	}
	return nil
}

func (c *Config) validateStages() error {
	for i, r := range c.Filter.Rules {
		p := fmt.Sprintf("$.filter.rules[%d]", i)
		if r.Column == "" {
			return c.errAt(p, fmt.Sprintf("filter.rules[%d].column", i), "a rule needs a column")
		}
		if len(r.Values) == 0 && r.Min == nil && r.Max == nil {
			return c.errAt(p, fmt.Sprintf("filter.rules[%d]", i), "a rule needs exclude values or a min/max range")
		}
	}
	if c.Features != nil {
		if _, err := c.featureConfig(); err != nil {
			return err
		}
	}
	if len(c.Rankers) > 0 && c.Features == nil {
		return c.errAt("$.rankers", "rankers", "rankers need the feature stage: add a features section")
	}
	seen := map[string]bool{}
	for i, r := range c.Rankers {
		p := fmt.Sprintf("$.rankers[%d]", i)
		key := fmt.Sprintf("rankers[%d]", i)
		if r.Name == "" || seen[r.Name] || c.Models[r.Name].Type != "" {
			return c.errAt(p+".name", key+".name", "each ranker needs a unique name that is not a model's (got %q)", r.Name)
		}
		seen[r.Name] = true
		if _, ok := rankerKinds[r.Type]; !ok {
			return c.errAt(p+".type", key+".type", "unknown ranker type %q (known: attention, lightgbm)", r.Type)
		}
		if r.Keep < 0 {
			return c.errAt(p+".keep", key+".keep", "must be ≥ 0, got %d", r.Keep)
		}
		if r.ItemInit != "" {
			if r.Type != "attention" {
				return c.errAt(p+".item_init", key+".item_init", "only attention rankers take item vectors")
			}
			if t := c.Models[r.ItemInit].Type; t != "ials" && t != "twotower" {
				return c.errAt(p+".item_init", key+".item_init", "%q is not an ials or twotower model of this file", r.ItemInit)
			}
		}
		if r.Model != "" && r.Type != "lightgbm" {
			return c.errAt(p+".model", key+".model", "only lightgbm rankers load an external model")
		}
		if _, err := c.rankerTrials(i); err != nil {
			return err
		}
	}
	rd := c.RankingData
	switch {
	case len(rd.HorizonDays) == 0 || slices.Min(rd.HorizonDays) < 0:
		return c.errAt("$.ranking_data.horizon_days", "ranking_data.horizon_days", "must be ≥ 0 (or a non-empty list of such)")
	case rd.MaxRequests < 0:
		return c.errAt("$.ranking_data.max_requests", "ranking_data.max_requests", "must be ≥ 0")
	case len(rd.MaxPerUser) == 0 || slices.Min(rd.MaxPerUser) < 0:
		return c.errAt("$.ranking_data.max_requests_per_user", "ranking_data.max_requests_per_user", "must be ≥ 0 (or a non-empty list of such)")
	case rd.Negatives < 0:
		return c.errAt("$.ranking_data.negatives", "ranking_data.negatives", "must be ≥ 0")
	case rd.RandomNegatives < 0 || rd.RandomNegatives > 10:
		return c.errAt("$.ranking_data.random_negatives", "ranking_data.random_negatives", "must be in [0, 10]")
	case rd.StackFraction <= 0 || rd.StackFraction >= 1:
		return c.errAt("$.ranking_data.stack_fraction", "ranking_data.stack_fraction", "must be in (0, 1)")
	case rd.ValidFraction <= 0 || rd.ValidFraction >= 1:
		return c.errAt("$.ranking_data.valid_fraction", "ranking_data.valid_fraction", "must be in (0, 1)")
	}
	if len(c.Rankers) > 0 {
		stacks, err := c.rankingStacks()
		if err != nil {
			return err
		}
		if n := len(stacks) * len(rd.grid()); n > maxStacks {
			return c.errAt("$.ranking_data", "ranking_data", "the ranking stacks × ranking data grid make %d combinations to compare, more than %d: shorten the grids", n, maxStacks)
		}
	}
	for _, b := range []struct {
		path string
		v    float64
	}{{"retrieve.budget_ms", c.Retrieve.BudgetMS}, {"filter.budget_ms", c.Filter.BudgetMS}} {
		if b.v < 0 {
			return c.errAt("$."+b.path, b.path, "must be ≥ 0 (0: no budget)")
		}
	}
	return nil
}

// featureConfig decodes the feature stage's parameters.
func (c *Config) featureConfig() (features.Config, error) {
	fc := features.DefaultConfig()
	if c.Features == nil {
		return fc, nil
	}
	for k, v := range c.Features.Params {
		if _, ok := v.([]any); ok && k != "features" && k != "numeric_columns" {
			return fc, c.errAt("$.features.params."+k, "features.params."+k, "grids are for models; give one value")
		}
	}
	if err := decodeParams(c.Features.Params, &fc); err != nil {
		return fc, c.errAt("$.features.params", "features.params", "%s", oneLine(err))
	}
	if err := fc.Validate(); err != nil {
		return fc, c.errAt("$.features.params", "features.params", "%s", oneLine(err))
	}
	return fc, nil
}

// rankerListKeys are ranker parameters whose single value is a list.
var rankerListKeys = []string{"hidden", "eval_at"}

// rankerTrials expands ranker i's parameters and drop_features into its grid. Each trial's
// Values holds the combination (drop_features included when given) and Drop the selectors.
func (c *Config) rankerTrials(i int) ([]rankerTrial, error) {
	r := c.Rankers[i]
	kind := rankerKinds[r.Type]
	base := fmt.Sprintf("$.rankers[%d]", i)
	key := fmt.Sprintf("rankers[%d]", i)
	trials, err := c.expand(base+".params", key+".params", "ranker type "+r.Type, r.Params, kind.newParams, rankerListKeys)
	if err != nil {
		return nil, err
	}
	drops := [][]string{nil}
	if len(r.DropFeatures) > 0 {
		drops = drops[:0]
		lists := [][]any{r.DropFeatures}
		if _, nested := r.DropFeatures[0].([]any); nested {
			lists = lists[:0]
			for j, v := range r.DropFeatures {
				l, ok := v.([]any)
				if !ok {
					return nil, c.errAt(fmt.Sprintf("%s.drop_features[%d]", base, j), key+".drop_features", "a grid of feature lists needs a list at every position")
				}
				lists = append(lists, l)
			}
		}
		for j, l := range lists {
			var sel []string
			for _, v := range l {
				s, ok := v.(string)
				if !ok || !features.ValidSelector(s) {
					return nil, c.errAt(base+".drop_features", key+".drop_features", "entry %d: %v is not a feature or family name (known: %s)", j, v, strings.Join(features.FixedNames(), ", ")+", and the families "+strings.Join(features.FamilyNames(), ", "))
				}
				sel = append(sel, s)
			}
			drops = append(drops, sel)
		}
	}
	var out []rankerTrial
	for _, tr := range trials {
		for _, d := range drops {
			vals := maps.Clone(tr.Values)
			if len(r.DropFeatures) > 0 {
				vals["drop_features"] = "[" + strings.Join(d, " ") + "]"
			}
			out = append(out, rankerTrial{Trial: Trial{Values: vals, Params: tr.Params}, Drop: d})
		}
	}
	// Name each trial by the values that tell it from its siblings.
	for i := range out {
		out[i].grid = map[string]any{}
		for k, v := range out[i].Values {
			for _, o := range out {
				if fmt.Sprint(o.Values[k]) != fmt.Sprint(v) {
					out[i].grid[k] = v
					break
				}
			}
		}
	}
	return out, nil
}

// rankerTrial is one combination of a ranker's grid.
type rankerTrial struct {
	Trial
	Drop []string       // feature selectors the ranker does not read
	grid map[string]any // the values that vary across the ranker's grid
}

// gridLabel is Label restricted to the values that vary across the grid.
func (t rankerTrial) gridLabel() string { return Trial{Values: t.grid}.Label() }

func validMetric(m string) bool {
	for _, p := range []string{"hr", "ndcg", "mrr"} {
		for _, k := range []string{"10", "20", "50", "100"} {
			if m == p+"@"+k {
				return true
			}
		}
	}
	return false
}

// Trial is one combination of a model's parameter grid, decoded into the model kind's typed
// parameters.
type Trial struct {
	Values map[string]any // the combination, as written in the file
	Params any            // pointer to the kind's parameter struct
}

// Label renders the combination as "a=1, b=2" (keys sorted).
func (t Trial) Label() string {
	keys := make([]string, 0, len(t.Values))
	for k := range t.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, t.Values[k])
	}
	return strings.Join(parts, ", ")
}

// labelWithout is Label without the given keys: trials that share it train the same model.
func (t Trial) labelWithout(skip []string) string {
	vals := make(map[string]any, len(t.Values))
	for k, v := range t.Values {
		if !slices.Contains(skip, k) {
			vals[k] = v
		}
	}
	return Trial{Values: vals}.Label()
}

// Grid expands the named model's parameters into trials (one when no parameter is a list).
func (c *Config) Grid(model string) ([]Trial, error) {
	m, ok := c.Models[model]
	if !ok {
		return nil, fmt.Errorf("no model named %q", model)
	}
	return c.grid(model, kinds[m.Type])
}

func (c *Config) grid(name string, kind *modelKind) ([]Trial, error) {
	m := c.Models[name]
	return c.expand("$.models."+name+".params", "models."+name+".params", "type "+m.Type, m.Params, kind.newParams, nil)
}

// expand turns a parameter block into its grid: every combination of the values of the keys given
// as lists, each decoded over newParams and validated. listKeys are parameters whose single value
// is a list: for them only a list of lists is a grid.
func (c *Config) expand(base, keyBase, what string, raw map[string]any, newParams func() any, listKeys []string) ([]Trial, error) {
	allowed := yamlKeys(newParams())
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lists := make([][]any, len(keys))
	for i, k := range keys {
		if !slices.Contains(allowed, k) {
			return nil, c.errAt(base+"."+k, keyBase+"."+k, "unknown parameter for %s (known: %s)", what, strings.Join(allowed, ", "))
		}
		switch v := raw[k].(type) {
		case []any:
			if len(v) == 0 {
				return nil, c.errAt(base+"."+k, keyBase+"."+k, "an empty list leaves nothing to try")
			}
			lists[i] = v
			if slices.Contains(listKeys, k) {
				if _, nested := v[0].([]any); !nested {
					lists[i] = []any{v} // one list value, not a grid
				}
			}
		case map[string]any:
			return nil, c.errAt(base+"."+k, keyBase+"."+k, "must be a value or a list of values, not a mapping")
		default:
			lists[i] = []any{v}
		}
		// Decode each value alone first, so a type error names its own key.
		for _, v := range lists[i] {
			if err := decodeParams(map[string]any{k: v}, newParams()); err != nil {
				return nil, c.errAt(base+"."+k, keyBase+"."+k, "%s", oneLine(err))
			}
		}
	}
	var trials []Trial
	idx := make([]int, len(keys))
	for {
		vals := make(map[string]any, len(keys))
		for i, k := range keys {
			vals[k] = lists[i][idx[i]]
		}
		params := newParams()
		err := decodeParams(vals, params)
		if err == nil {
			if v, ok := params.(interface{ Validate() error }); ok {
				err = v.Validate()
			}
		}
		if err != nil {
			// Point at the parameter the message names, else at the params block.
			msg := oneLine(err)
			at, key := base, keyBase
			// Validate messages read "<model>: <key> = <value>: …"; take the longest key
			// mentioned so that "reg_exponent" is not taken for "reg".
			best := ""
			for _, k := range keys {
				if strings.Contains(msg, k+" =") && len(k) > len(best) {
					best = k
				}
			}
			if best != "" {
				at, key = base+"."+best, key+"."+best
			}
			return nil, c.errAt(at, key, "%s", msg)
		}
		trials = append(trials, Trial{Values: vals, Params: params})
		// Odometer increment over the lists.
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(lists[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			break
		}
	}
	return trials, nil
}

// decodeParams strictly decodes vals over the defaults in params.
func decodeParams(vals map[string]any, params any) error {
	raw, err := yaml.Marshal(vals)
	if err != nil {
		return err
	}
	return yaml.UnmarshalWithOptions(raw, params, yaml.Strict())
}

func oneLine(err error) string {
	s := err.Error()
	var pe interface{ GetMessage() string }
	if errors.As(err, &pe) {
		s = pe.GetMessage()
	}
	return strings.Join(strings.Fields(s), " ")
}

// yamlKeys lists the yaml tags of the struct params points to.
func yamlKeys(params any) []string {
	t := reflect.TypeOf(params)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "-" || !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		keys = append(keys, tag)
	}
	return keys
}
