package simulate

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/cascade-rec/cascade/params"
	"github.com/goccy/go-yaml"
)

// Exploration modes of the cascade policy.
const (
	ExploreNone    = "none"    // the re-ranker's top k
	ExploreEpsilon = "epsilon" // each slot: a uniformly random remaining candidate with probability ε
	ExploreSoftmax = "softmax" // Plackett–Luce sampling from softmax(score/temperature)
)

// Config describes a simulation. DefaultConfig is the default world; a YAML file (LoadConfig)
// overrides any of its keys.
type Config struct {
	// Seed drives everything: the world, the bundle's training, the users sampled, the clicks
	// and the exploration.
	Seed  uint64      `yaml:"seed"`
	World WorldConfig `yaml:"world"`
	// Pipeline is a pipeline file for the cascade policy's bundle; empty means the embedded
	// default (iALS + popularity → features → LightGBM, DefaultPipeline). Its dataset section is
	// replaced by the generated world.
	Pipeline string `yaml:"pipeline"`

	Rounds        int `yaml:"rounds"`
	UsersPerRound int `yaml:"users_per_round"` // users sampled (without replacement) each round
	K             int `yaml:"k"`               // slate size
	// Candidates is how many of the pipeline's ranked items the re-ranker chooses from (the
	// pipeline's final.k is raised to it when smaller).
	Candidates int `yaml:"candidates"`
	// Exploration lists the cascade policy's exploration modes: the first is the policy named
	// "cascade", each further one runs beside it as "cascade-<mode>" with its own users' state,
	// log and re-ranker.
	Exploration []string `yaml:"exploration"`
	Epsilon     float64  `yaml:"epsilon"`
	Temperature float64  `yaml:"temperature"`
	// Retrain retrains the re-ranker from the policy's impressions at each round's end; false
	// keeps the bundle's own ranking throughout.
	Retrain  bool           `yaml:"retrain"`
	Reranker RerankerConfig `yaml:"reranker"`
	// Workers bounds the goroutines serving users (0: GOMAXPROCS); it never changes the result.
	Workers int `yaml:"workers"`
	// Towers adds two-tower candidate generators by training mode (candgen.go; issue 13, 3a).
	Towers TowerConfig `yaml:"towers"`
}

// WorldConfig sizes the synthetic world; the other parameters are synth.DefaultConfig's.
type WorldConfig struct {
	Users  int `yaml:"users"`
	Items  int `yaml:"items"`
	Events int `yaml:"events"`
	// Impressions is the number of requests the world's logging policy logs (impressions.jsonl,
	// written with the world; the simulation itself does not read them).
	Impressions int `yaml:"impressions"`
	// ShortTermWeight (β) and Drift set how much a user's affinity follows the last items taken
	// and how far the taste moves over the world's time span (synth.Config); unset keeps synth's
	// defaults (0.4 and 0.5). They let an experiment ask which part of the truth a policy misses.
	ShortTermWeight *float64 `yaml:"short_term_weight"`
	Drift           *float64 `yaml:"drift"`
}

// RerankerConfig sets the LightGBM re-ranker trained from impressions (binary objective).
type RerankerConfig struct {
	// Trees is the number of trees, or with SelectLeaves the most trees early stopping may keep.
	Trees int `yaml:"trees"`
	// Leaves is the leaves per tree when SelectLeaves is empty. A file that sets leaves and not
	// select_leaves gets that fixed size.
	Leaves int `yaml:"leaves"`
	// SelectLeaves chooses the model's size on held-out slates at each retraining: every fifth
	// slate is held out, a model per listed leaf count is trained on the rest with early
	// stopping, and the one with the lowest held-out log loss is refit on every slate with its
	// leaf and tree counts. A loop's data is a few thousand noisy clicks, and a fixed size that
	// suits one round overfits another. Empty: Trees and Leaves as given.
	SelectLeaves  []int   `yaml:"select_leaves"`
	LearningRate  float64 `yaml:"learning_rate"`
	MinDataInLeaf int     `yaml:"min_data_in_leaf"`
	// RandomNegatives adds ⌊share·k⌋ uniformly random catalog items (neither shown nor in the
	// history) to each slate's rows as negatives, as ranking_data.random_negatives does.
	RandomNegatives float64 `yaml:"random_negatives"`
	// PropensityWeighting weighs each shown row by its inverse logging propensity, as
	// ranking_data.propensity_weighting does.
	PropensityWeighting bool `yaml:"propensity_weighting"`
	// PositionFeature gives the model the shown position as a training-only feature (scored at
	// position 1), as ranking_data.position_feature does; false learns clicks by item alone.
	PositionFeature bool `yaml:"position_feature"`
	// TruthFeature is a diagnostic: it gives the re-ranker the world's true value as one more
	// column ("truth_" + the name), to measure what better features could earn: affinity (the
	// click model's input), long_term (the user's drifting taste and the item bias, without the
	// short-term interest), item_bias or estimated_taste (TruthEstimatedTaste). Never for
	// comparing policies. Empty: off.
	TruthFeature string `yaml:"truth_feature"`
}

// The diagnostic truth columns (RerankerConfig.TruthFeature).
const (
	TruthAffinity = "affinity"
	TruthLongTerm = "long_term"
	TruthItemBias = "item_bias"
	// TruthEstimatedTaste is the affinity with the world's items and short-term interest known
	// and the user's long-term taste estimated from their history by maximum likelihood: what a
	// learner with perfect item knowledge could infer about the user.
	TruthEstimatedTaste = "estimated_taste"
)

// DefaultConfig is the default simulation: the demo-sized world (1,500 users, 1,200 items,
// 100,000 events, 2,000 logged requests), 300 users a round, slates of 10 chosen from the pipeline's top 100, retrained
// each round, with the three exploration modes side by side.
func DefaultConfig() Config {
	return Config{
		Seed:          1,
		World:         WorldConfig{Users: 1500, Items: 1200, Events: 100_000, Impressions: 2000},
		Rounds:        8,
		UsersPerRound: 300,
		K:             10,
		Candidates:    100,
		Exploration:   []string{ExploreNone, ExploreEpsilon, ExploreSoftmax},
		Epsilon:       0.1,
		Temperature:   1,
		Retrain:       true,
		Reranker: RerankerConfig{Trees: 300, Leaves: 15, SelectLeaves: []int{2, 4, 8, 15, 31}, LearningRate: 0.1,
			MinDataInLeaf: 20, PositionFeature: true},
		Towers: TowerConfig{Params: DefaultTowerParams()},
	}
}

// LoadConfig reads a YAML file over DefaultConfig; unknown keys are errors.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("simulate: %w", err)
	}
	if err := yaml.UnmarshalWithOptions(data, &cfg, yaml.Strict()); err != nil {
		return cfg, fmt.Errorf("simulate: %s: %w", path, err)
	}
	// A file that sets the re-ranker's leaves asks for that size: unless it also lists
	// select_leaves, the held-out choice is off.
	var keys struct {
		Reranker map[string]any `yaml:"reranker"`
	}
	if err := yaml.Unmarshal(data, &keys); err == nil {
		_, leaves := keys.Reranker["leaves"]
		_, choose := keys.Reranker["select_leaves"]
		if leaves && !choose {
			cfg.Reranker.SelectLeaves = nil
		}
	}
	return cfg, cfg.Validate()
}

// Validate reports every field out of range, by its YAML key.
func (c Config) Validate() error {
	errs := []error{
		params.AtLeast("world.users", c.World.Users, 1),
		params.AtLeast("world.items", c.World.Items, 1),
		params.AtLeast("world.events", c.World.Events, 1),
		params.AtLeast("world.impressions", c.World.Impressions, 0),
		unitOrUnset("world.short_term_weight", c.World.ShortTermWeight),
		unitOrUnset("world.drift", c.World.Drift),
		params.AtLeast("rounds", c.Rounds, 1),
		params.IntIn("users_per_round", c.UsersPerRound, 1, max(c.World.Users, 1)),
		params.AtLeast("k", c.K, 1),
		params.Check(c.Candidates >= c.K, "candidates", c.Candidates, fmt.Sprintf("be ≥ k (%d)", c.K)),
		params.Check(len(c.Exploration) > 0, "exploration", c.Exploration, "list at least one of none, epsilon, softmax"),
		params.Check(c.Epsilon >= 0 && c.Epsilon <= 1, "epsilon", c.Epsilon, "be in [0, 1]"),
		params.Positive("temperature", c.Temperature),
		params.AtLeast("reranker.trees", c.Reranker.Trees, 1),
		params.AtLeast("reranker.leaves", c.Reranker.Leaves, 2),
		params.Check(!slices.ContainsFunc(c.Reranker.SelectLeaves, func(l int) bool { return l < 2 }), "reranker.select_leaves", c.Reranker.SelectLeaves, "hold leaf counts ≥ 2"),
		params.Check(slices.Contains([]string{"", TruthAffinity, TruthLongTerm, TruthItemBias, TruthEstimatedTaste}, c.Reranker.TruthFeature), "reranker.truth_feature", c.Reranker.TruthFeature, "be affinity, long_term, item_bias or estimated_taste (or unset)"),
		params.Positive("reranker.learning_rate", c.Reranker.LearningRate),
		params.AtLeast("reranker.min_data_in_leaf", c.Reranker.MinDataInLeaf, 1),
		params.Check(c.Reranker.RandomNegatives >= 0 && c.Reranker.RandomNegatives <= 10, "reranker.random_negatives", c.Reranker.RandomNegatives, "be in [0, 10]"),
		params.Check(c.Workers >= 0, "workers", c.Workers, "be ≥ 0 (0 = GOMAXPROCS)"),
	}
	errs = append(errs, modeList("exploration", c.Exploration, ExploreNone, ExploreEpsilon, ExploreSoftmax)...)
	errs = append(errs, c.Towers.validate())
	return errors.Join(errs...)
}

// unitOrUnset checks an optional share: unset, or in [0, 1].
func unitOrUnset(field string, v *float64) error {
	if v == nil {
		return nil
	}
	return params.Check(*v >= 0 && *v <= 1, field, *v, "be in [0, 1]")
}

// modeList checks a list of mode names: each allowed, each once.
func modeList(field string, modes []string, allowed ...string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, m := range modes {
		errs = append(errs,
			params.In(field, m, allowed...),
			params.Check(!seen[m], field, m, "name each mode once"))
		seen[m] = true
	}
	return errs
}

// policyName is the name of the cascade policy with exploration mode index i.
func (c Config) policyName(i int) string {
	if i == 0 {
		return "cascade"
	}
	return "cascade-" + c.Exploration[i]
}
