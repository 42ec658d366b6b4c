// Package pipeline owns the pipeline file — the YAML that declares a data set, the split, named
// models with their parameters and tuning grids, and the stages a request flows through — and the
// machinery built from it: training every model in the right order with validation-based tuning,
// the model bundle on disk (artifacts + manifest.json), and the assembled recommender that replay
// and the server call.
package pipeline

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"

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
	Final    FinalConfig  `yaml:"final"`
	Tuning   TuningConfig `yaml:"tuning"`

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
	// Merge is how source lists combine: "interleave" (round-robin by rank, the default) or
	// "concat" (source order). Duplicates keep their first position.
	Merge string `yaml:"merge"`
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
	cfg := &Config{path: path, source: string(data), file: file}
	if err := yaml.UnmarshalWithOptions(data, cfg, yaml.Strict()); err != nil {
		return nil, &ConfigError{File: path, Msg: yaml.FormatError(err, false, true)}
	}
	cfg.applyDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Config) applyDefaults() {
	if c.Split.TrainFraction == 0 {
		c.Split.TrainFraction = 0.9
	}
	if c.Split.ValidationFraction == 0 {
		c.Split.ValidationFraction = 0.9
	}
	if c.Dataset.Format == "" {
		c.Dataset.Format = "auto"
	}
	s := &c.Dataset.Synthetic
	if s.Users == 0 {
		s.Users = 1500
	}
	if s.Items == 0 {
		s.Items = 1200
	}
	if s.Events == 0 {
		s.Events = 100_000
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	if c.Retrieve.Merge == "" {
		c.Retrieve.Merge = "interleave"
	}
	if c.Final.K == 0 {
		c.Final.K = 100
	}
	if c.Tuning.Metric == "" {
		c.Tuning.Metric = "ndcg@10"
	}
	if c.Name == "" {
		c.Name = "pipeline"
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
	if c.Final.K <= 0 || c.Final.K > 10_000 {
		return c.errAt("$.final.k", "final.k", "must be in 1..10000, got %d", c.Final.K)
	}
	if !validMetric(c.Tuning.Metric) {
		return c.errAt("$.tuning.metric", "tuning.metric", "unknown metric %q (want hr@K, ndcg@K or mrr@K with K in 10, 20, 50, 100)", c.Tuning.Metric)
	}
	return nil
}

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
	base := "$.models." + name + ".params"
	allowed := yamlKeys(kind.newParams())
	keys := make([]string, 0, len(m.Params))
	for k := range m.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lists := make([][]any, len(keys))
	for i, k := range keys {
		if !slices.Contains(allowed, k) {
			return nil, c.errAt(base+"."+k, "models."+name+".params."+k, "unknown parameter for type %s (known: %s)", m.Type, strings.Join(allowed, ", "))
		}
		switch v := m.Params[k].(type) {
		case []any:
			if len(v) == 0 {
				return nil, c.errAt(base+"."+k, "models."+name+".params."+k, "an empty list leaves nothing to try")
			}
			lists[i] = v
		case map[string]any:
			return nil, c.errAt(base+"."+k, "models."+name+".params."+k, "must be a value or a list of values, not a mapping")
		default:
			lists[i] = []any{v}
		}
		// Decode each value alone first, so a type error names its own key.
		for _, v := range lists[i] {
			if err := decodeParams(map[string]any{k: v}, kind.newParams()); err != nil {
				return nil, c.errAt(base+"."+k, "models."+name+".params."+k, "%s", oneLine(err))
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
		params := kind.newParams()
		err := decodeParams(vals, params)
		if err == nil {
			if v, ok := params.(interface{ Validate() error }); ok {
				err = v.Validate()
			}
		}
		if err != nil {
			// Point at the parameter the message names, else at the params block.
			msg := oneLine(err)
			at, key := base, "models."+name+".params"
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
