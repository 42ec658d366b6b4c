package pipeline

import (
	"fmt"
	"slices"
	"strings"
)

// validate checks what decoding cannot: ranges, references between sections, grids. It reports
// the first problem, at its key.
func (c *Config) validate() error {
	if f := c.Split.TrainFraction; f <= 0 || f >= 1 {
		return c.errorf("split.train_fraction", "must be in (0, 1), got %v", f)
	}
	if f := c.Split.ValidationFraction; f <= 0 || f >= 1 {
		return c.errorf("split.validation_fraction", "must be in (0, 1), got %v", f)
	}
	s := c.Dataset.Synthetic
	if s.Users < 1 || s.Items < 2 || s.Events < 1 {
		return c.errorf("dataset.synthetic", "users, items and events must be positive")
	}
	if err := c.validateEvents(); err != nil {
		return err
	}
	if len(c.Models) == 0 {
		return c.errorf("models", "at least one model is required")
	}
	for _, name := range c.ModelNames() {
		m := c.Models[name]
		kind, ok := kinds[m.Type]
		if !ok {
			return c.errorf("models."+name+".type", "unknown model type %q (known: %s)", m.Type, strings.Join(kindNames(), ", "))
		}
		if _, err := c.grid(name, kind); err != nil {
			return err
		}
	}
	if c.IsRatings() {
		return c.validateRatings()
	}
	if err := c.validateSources("retrieve.sources", c.Retrieve.Sources); err != nil {
		return err
	}
	if c.Retrieve.Merge != "interleave" && c.Retrieve.Merge != "concat" {
		return c.errorf("retrieve.merge", "must be interleave or concat, got %q", c.Retrieve.Merge)
	}
	if c.Fallback != "" {
		m, ok := c.Models[c.Fallback]
		if !ok {
			return c.errorf("fallback", "no model named %q", c.Fallback)
		}
		if !kinds[m.Type].source {
			return c.errorf("fallback", "model %q of type %s cannot propose candidates", c.Fallback, m.Type)
		}
	}
	if err := c.validateStages(); err != nil {
		return err
	}
	if err := c.validateVariants(); err != nil {
		return err
	}
	if c.Final.K <= 0 || c.Final.K > 10_000 {
		return c.errorf("final.k", "must be in 1..10000, got %d", c.Final.K)
	}
	if !validMetric(c.Tuning.Metric) {
		return c.errorf("tuning.metric", "unknown metric %q (want hr@K, ndcg@K or mrr@K with K in 10, 20, 50, 100)", c.Tuning.Metric)
	}
	return c.validateHalving()
}

// validateSources checks a list of candidate sources (retrieve.sources, a variant's) at key.
func (c *Config) validateSources(key string, sources []SourceConfig) error {
	if len(sources) == 0 {
		return c.errorf(key, "at least one source is required")
	}
	for i, s := range sources {
		at := fmt.Sprintf("%s[%d]", key, i)
		m, ok := c.Models[s.Model]
		if !ok {
			return c.errorf(at+".model", "no model named %q (declared: %s)", s.Model, strings.Join(c.ModelNames(), ", "))
		}
		if !kinds[m.Type].source {
			return c.errorf(at+".model", "model %q of type %s cannot propose candidates", s.Model, m.Type)
		}
		if s.K <= 0 || s.K > 100_000 {
			return c.errorf(at+".k", "must be in 1..100000, got %d", s.K)
		}
		if err := c.validateQueryRefresh(at, s); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) validateStages() error {
	for i, r := range c.Filter.Rules {
		key := fmt.Sprintf("filter.rules[%d]", i)
		if r.Column == "" {
			return c.errorf(key+".column", "a rule needs a column")
		}
		if len(r.Values) == 0 && r.Min == nil && r.Max == nil {
			return c.errorf(key, "a rule needs exclude values or a min/max range")
		}
	}
	if c.Features != nil {
		if _, err := c.featureConfig(); err != nil {
			return err
		}
	}
	if len(c.Rankers) > 0 && c.Features == nil {
		return c.errorf("rankers", "rankers need the feature stage: add a features section")
	}
	seen := map[string]bool{}
	for i, r := range c.Rankers {
		key := fmt.Sprintf("rankers[%d]", i)
		if r.Name == "" || seen[r.Name] || c.Models[r.Name].Type != "" {
			return c.errorf(key+".name", "each ranker needs a unique name that is not a model's (got %q)", r.Name)
		}
		seen[r.Name] = true
		if _, ok := rankerKinds[r.Type]; !ok {
			return c.errorf(key+".type", "unknown ranker type %q (known: attention, lightgbm)", r.Type)
		}
		if r.Keep < 0 {
			return c.errorf(key+".keep", "must be ≥ 0, got %d", r.Keep)
		}
		if r.ItemInit != "" {
			if r.Type != "attention" {
				return c.errorf(key+".item_init", "only attention rankers take item vectors")
			}
			if t := c.Models[r.ItemInit].Type; t != "ials" && t != "twotower" {
				return c.errorf(key+".item_init", "%q is not an ials or twotower model of this file", r.ItemInit)
			}
		}
		if r.Model != "" && r.Type != "lightgbm" {
			return c.errorf(key+".model", "only lightgbm rankers load an external model")
		}
		if _, err := c.rankerTrials(i); err != nil {
			return err
		}
	}
	rd := c.RankingData
	switch {
	case len(rd.HorizonDays) == 0 || slices.Min(rd.HorizonDays) < 0:
		return c.errorf("ranking_data.horizon_days", "must be ≥ 0 (or a non-empty list of such)")
	case rd.MaxRequests < 0:
		return c.errorf("ranking_data.max_requests", "must be ≥ 0")
	case len(rd.MaxPerUser) == 0 || slices.Min(rd.MaxPerUser) < 0:
		return c.errorf("ranking_data.max_requests_per_user", "must be ≥ 0 (or a non-empty list of such)")
	case rd.Negatives < 0:
		return c.errorf("ranking_data.negatives", "must be ≥ 0")
	case rd.RandomNegatives < 0 || rd.RandomNegatives > 10:
		return c.errorf("ranking_data.random_negatives", "must be in [0, 10]")
	case rd.StackFraction <= 0 || rd.StackFraction >= 1:
		return c.errorf("ranking_data.stack_fraction", "must be in (0, 1)")
	case rd.ValidFraction <= 0 || rd.ValidFraction >= 1:
		return c.errorf("ranking_data.valid_fraction", "must be in (0, 1)")
	}
	if err := c.validateSource(); err != nil {
		return err
	}
	if len(c.Rankers) > 0 {
		stacks, err := c.rankingStacks()
		if err != nil {
			return err
		}
		if n := len(stacks) * len(rd.grid()); n > maxStacks {
			return c.errorf("ranking_data", "the ranking stacks × ranking data grid make %d combinations to compare, more than %d: shorten the grids", n, maxStacks)
		}
	}
	for _, b := range []struct {
		key string
		v   float64
	}{{"retrieve.budget_ms", c.Retrieve.BudgetMS}, {"filter.budget_ms", c.Filter.BudgetMS}} {
		if b.v < 0 {
			return c.errorf(b.key, "must be ≥ 0 (0: no budget)")
		}
	}
	return nil
}

// validateSource checks ranking_data's source and that every key given applies to it.
func (c *Config) validateSource() error {
	rd := c.RankingData
	only := map[string][]string{
		SourceCandidates:  {"log", "window_hours", "position_feature", "propensity_weighting"},
		SourceImpressions: {"horizon_days", "max_requests_per_user"},
	}
	others, ok := only[rd.Source]
	if !ok {
		return c.errorf("ranking_data.source", "unknown source %q%s", rd.Source, didYouMean(rd.Source, []string{SourceCandidates, SourceImpressions}))
	}
	for _, k := range others {
		if c.has("ranking_data." + k) {
			return c.errorf("ranking_data."+k, "applies to source %s only (this file's source is %s)", map[string]string{SourceCandidates: SourceImpressions, SourceImpressions: SourceCandidates}[rd.Source], rd.Source)
		}
	}
	if !(rd.WindowHours >= 0) {
		return c.errorf("ranking_data.window_hours", "must be ≥ 0, got %v", rd.WindowHours)
	}
	if rd.PropensityWeighting {
		for i, r := range c.Rankers {
			if r.Type != "lightgbm" {
				return c.errorf("ranking_data.propensity_weighting", "weights reach lightgbm rankers only; ranker %s (rankers[%d]) is %s", r.Name, i, r.Type)
			}
		}
	}
	return nil
}

// has reports whether the file sets key.
func (c *Config) has(key string) bool {
	found := false
	c.each(func(n yamlNode) bool {
		found = n.path == key
		return !found
	})
	return found
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
