package pipeline

import (
	"strings"
	"testing"
)

const validConfig = `name: t
models:
  pop:
    type: popularity
  ials:
    type: ials
    params:
      factors: 8
      alpha: [1, 4]
      reg: [1, 10, 100]
retrieve:
  sources:
    - {model: ials, k: 50}
final: {k: 20}
`

func TestParseConfigGrid(t *testing.T) {
	cfg, err := ParseConfig("t.yaml", []byte(validConfig))
	if err != nil {
		t.Fatal(err)
	}
	trials, err := cfg.Grid("ials")
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 6 {
		t.Fatalf("%d trials, want 2×3", len(trials))
	}
	seen := map[string]bool{}
	for _, tr := range trials {
		seen[tr.Label()] = true
	}
	if !seen["alpha=4, factors=8, reg=100"] || len(seen) != 6 {
		t.Fatalf("labels %v", seen)
	}
	if cfg.FallbackModel() != "pop" || cfg.Split.TrainFraction != 0.9 || cfg.Retrieve.Merge != "interleave" {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown top-level key", validConfig + "extra: 1\n", []string{"t.yaml", "extra"}},
		{"unknown model type", strings.Replace(validConfig, "type: popularity", "type: magic", 1), []string{"t.yaml:4", "models.pop.type", `unknown model type "magic"`}},
		{"unknown parameter", strings.Replace(validConfig, "factors: 8", "factorz: 8", 1), []string{"t.yaml:8", "models.ials.params.factorz", "unknown parameter"}},
		{"bad parameter value", strings.Replace(validConfig, "factors: 8", "factors: -3", 1), []string{"t.yaml:8", "models.ials.params.factors"}},
		{"wrong parameter type", strings.Replace(validConfig, "factors: 8", "factors: many", 1), []string{"t.yaml:8", "models.ials.params.factors"}},
		{"empty grid", strings.Replace(validConfig, "alpha: [1, 4]", "alpha: []", 1), []string{"t.yaml:9", "models.ials.params.alpha", "empty list"}},
		{"unknown source model", strings.Replace(validConfig, "{model: ials, k: 50}", "{model: nope, k: 50}", 1), []string{"t.yaml:13", "retrieve.sources[0].model", `no model named "nope"`}},
		{"bad k", strings.Replace(validConfig, "{model: ials, k: 50}", "{model: ials, k: 0}", 1), []string{"t.yaml:13", "retrieve.sources[0].k"}},
		{"bad final k", strings.Replace(validConfig, "final: {k: 20}", "final: {k: -1}", 1), []string{"t.yaml:14", "final.k"}},
		{"wrong field type", strings.Replace(validConfig, "final: {k: 20}", "final: {k: lots}", 1), []string{"t.yaml", "k"}},
		{"bad merge", validConfig + "retrieve_typo: 1\n", []string{"retrieve_typo"}},
		{"bad metric", validConfig + "tuning: {metric: auc}\n", []string{"tuning.metric", `unknown metric "auc"`}},
		{"bad fraction", validConfig + "split: {train_fraction: 1.5}\n", []string{"split.train_fraction"}},
		{"unknown fallback", validConfig + "fallback: x\n", []string{"fallback", `no model named "x"`}},
		{"no models", "retrieve: {sources: [{model: a, k: 1}]}\n", []string{"models", "at least one model"}},
		{"not yaml", "models: [\n", []string{"t.yaml"}},
		// Ranker stages (stackConfig below): grids, dropped features, the bound on combinations.
		{"unknown dropped feature", strings.Replace(stackConfig, "[item_age_days, score]", "[item_age, score]", 1), []string{"t.yaml:24", "rankers[1].drop_features", "item_age"}},
		{"mixed drop grid", strings.Replace(stackConfig, "[[], [item_age_days, score]]", "[[], score]", 1), []string{"rankers[1].drop_features", "a list at every position"}},
		{"bad grid value", strings.Replace(stackConfig, "leaves: [15, 31]", "leaves: [15, 1]", 1), []string{"rankers[1].params.leaves", "leaves = 1"}},
		{"unknown ranker parameter", strings.Replace(stackConfig, "leaves: [15, 31]", "leafs: 15", 1), []string{"rankers[1].params.leafs", "unknown parameter for ranker type lightgbm"}},
		{"too many stacks", strings.Replace(stackConfig, "leaves: [15, 31]", "leaves: [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]", 1), []string{"rankers", "more than 48"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("t.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// Defaults fill what a file leaves out, but an explicit value — zero included — is kept.
func TestConfigDefaultsKeepExplicitZero(t *testing.T) {
	cfg, err := ParseConfig("t.yaml", []byte(validConfig+"ranking_data: {negatives: 0, max_requests: 0}\ndataset: {synthetic: {users: 10}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rd := cfg.RankingData
	if rd.Negatives != 0 || rd.MaxRequests != 0 || rd.HorizonDays[0] != 0 || rd.StackFraction != 0.5 {
		t.Fatalf("ranking_data %+v", rd)
	}
	s := cfg.Dataset.Synthetic
	if s.Users != 10 || s.Items != 1200 || s.Events != 100_000 {
		t.Fatalf("synthetic %+v: the other fields should keep their defaults", s)
	}
	if !*cfg.Filter.ExcludeSeen || cfg.Final.K != 20 || cfg.Tuning.Metric != "ndcg@10" {
		t.Fatalf("defaults %+v", cfg)
	}
}

const stackConfig = validConfig + `features: {}
rankers:
  - name: attention
    type: attention
    optional: true
    params: {hidden: [32, 16]}
  - name: lightgbm
    type: lightgbm
    params: {leaves: [15, 31], eval_at: [5, 10]}
    drop_features: [[], [item_age_days, score]]
`

func TestRankingStacks(t *testing.T) {
	cfg, err := ParseConfig("t.yaml", []byte(stackConfig))
	if err != nil {
		t.Fatal(err)
	}
	stacks, err := cfg.rankingStacks()
	if err != nil {
		t.Fatal(err)
	}
	// attention present or absent × 2 leaves × 2 feature sets; a flat list for a list-valued
	// parameter (hidden, eval_at) is one value, not a grid.
	if len(stacks) != 8 {
		t.Fatalf("%d stacks, want 8", len(stacks))
	}
	first := stacks[0].label(cfg)
	if want := "attention → lightgbm(drop_features=[], leaves=15)"; first != want {
		t.Fatalf("first stack %q, want the file as written %q", first, want)
	}
	seen := map[string]bool{}
	for _, s := range stacks {
		seen[s.label(cfg)] = true
	}
	if len(seen) != 8 || !seen["lightgbm(drop_features=[item_age_days score], leaves=31)"] {
		t.Fatalf("stacks %v", seen)
	}
	sub := cfg.withStack(stacks[len(stacks)-1])
	if len(sub.Rankers) != 1 || sub.Rankers[0].Name != "lightgbm" || len(cfg.Rankers) != 2 {
		t.Fatalf("withStack changed the file's config or kept the wrong rankers: %+v", sub.Rankers)
	}
	if _, err := cfg.withRankers([]string{"lgbm"}); err == nil {
		t.Fatal("a bundle stack naming an undeclared ranker was accepted")
	}
}

func TestRankingDataGrid(t *testing.T) {
	for _, c := range []struct {
		yaml   string
		n      int
		labels []string
	}{
		{"ranking_data: {horizon_days: 3}\n", 1, []string{""}},
		{"ranking_data: {horizon_days: [0, 7], max_requests_per_user: 20}\n", 2, []string{"horizon_days=0", "horizon_days=7"}},
		{"ranking_data: {horizon_days: [0, 7], max_requests_per_user: [0, 20]}\n", 4, []string{"horizon_days=0, max_requests_per_user=0", "horizon_days=0, max_requests_per_user=20", "horizon_days=7, max_requests_per_user=0", "horizon_days=7, max_requests_per_user=20"}},
	} {
		cfg, err := ParseConfig("t.yaml", []byte(validConfig+c.yaml))
		if err != nil {
			t.Fatal(err)
		}
		g := cfg.RankingData.grid()
		if len(g) != c.n {
			t.Fatalf("%s: %d configurations, want %d", c.yaml, len(g), c.n)
		}
		for i, rd := range g {
			if got := rd.label(cfg.RankingData); got != c.labels[i] {
				t.Errorf("%s: label %d = %q, want %q", c.yaml, i, got, c.labels[i])
			}
			if len(rd.HorizonDays) != 1 || len(rd.MaxPerUser) != 1 {
				t.Errorf("%s: configuration %d is not single-valued: %+v", c.yaml, i, rd)
			}
		}
	}
	for _, bad := range []string{"ranking_data: {horizon_days: [0, -1]}\n", "ranking_data: {horizon_days: []}\n", "ranking_data: {max_requests_per_user: soon}\n"} {
		if _, err := ParseConfig("t.yaml", []byte(validConfig+bad)); err == nil || !strings.Contains(err.Error(), "t.yaml") {
			t.Errorf("%s: error %v", bad, err)
		}
	}
}

func TestTooManyCombinations(t *testing.T) {
	// 8 stacks × 7 horizons = 56 > 48.
	_, err := ParseConfig("t.yaml", []byte(stackConfig+"ranking_data: {horizon_days: [0, 1, 2, 3, 4, 5, 6]}\n"))
	if err == nil || !strings.Contains(err.Error(), "56 combinations") {
		t.Fatalf("error %v", err)
	}
}
