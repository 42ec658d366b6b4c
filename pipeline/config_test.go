package pipeline

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/params"
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

// replace is validConfig or stackConfig with one edit, which must apply.
func replace(t *testing.T, base, old, new string) string {
	t.Helper()
	if !strings.Contains(base, old) {
		t.Fatalf("%q is not in the base config", old)
	}
	return strings.Replace(base, old, new, 1)
}

// Every error names the file, the line and the YAML path, in the file's terms: what the key takes
// and what it got, never the Go types it decodes into.
func TestParseConfigErrors(t *testing.T) {
	r := func(base, old, new string) string { return replace(t, base, old, new) }
	withModel := func(line string) string { return r(validConfig, "models:\n", "models:\n"+line+"\n") }
	cases := []struct {
		name, yaml string
		line       int    // 0: none
		key        string // the YAML path
		msg        []string
	}{
		// Not a pipeline file at all.
		{"not yaml", "models: [\n", 1, "", []string{"']'"}},
		{"empty file", "", 0, "", []string{"empty"}},
		{"not a mapping", "just text\n", 1, "", []string{`expected a mapping, got "just text"`}},
		{"duplicate key", validConfig + "final: {k: 3}\n", 15, "final", []string{"duplicate key (first given on line 14)"}},
		{"nested duplicate key", r(validConfig, "factors: 8\n", "factors: 8\n      factors: 9\n"), 9, "models.ials.params.factors", []string{"first given on line 8"}},

		// Wrong types, at every depth.
		{"section not a mapping", validConfig + "split: 3\n", 15, "split", []string{"expected a mapping, got 3"}},
		{"final.k", r(validConfig, "final: {k: 20}", "final: {k: lots}"), 14, "final.k", []string{`expected an integer, got "lots"`}},
		{"field of a list element", r(validConfig, "{model: ials, k: 50}", "{model: ials, k: [50]}"), 13, "retrieve.sources[0].k", []string{"expected an integer, got a list"}},
		{"pointer field of a list element", validConfig + "filter: {rules: [{column: year, min: x}]}\n", 15, "filter.rules[0].min", []string{`expected a number, got "x"`}},
		{"bool", validConfig + "filter: {exclude_seen: maybe}\n", 15, "filter.exclude_seen", []string{`expected true or false, got "maybe"`}},
		{"overflow", validConfig + "dataset: {synthetic: {users: 99999999999999999999}}\n", 15, "dataset.synthetic.users", []string{"expected an integer, got 99999999999999999999 (out of range)"}},
		{"value or list", validConfig + "ranking_data: {max_requests_per_user: soon}\n", 15, "ranking_data.max_requests_per_user", []string{`expected an integer or a list of integers, got "soon"`}},
		{"element of value or list", validConfig + "ranking_data: {horizon_days: [0, x]}\n", 15, "ranking_data.horizon_days[1]", []string{`expected a number, got "x"`}},
		{"tag where a list may stand", validConfig + "ranking_data: {max_requests_per_user: !!int 3}\n", 15, "ranking_data.max_requests_per_user", []string{"without the tag !!int"}},
		{"model parameter", r(validConfig, "factors: 8", "iterations: many"), 8, "models.ials.params.iterations", []string{`expected an integer, got "many"`}},
		{"model grid element", r(validConfig, "reg: [1, 10, 100]", "reg: [1, ten, 100]"), 10, "models.ials.params.reg[1]", []string{`expected a number, got "ten"`}},
		{"params not a mapping", r(validConfig, "    params:\n      factors: 8\n      alpha: [1, 4]\n      reg: [1, 10, 100]\n", "    params: 3\n"), 7, "models.ials.params", []string{"expected a mapping, got 3"}},
		{"parameter a mapping", r(validConfig, "factors: 8", "factors: {a: 1}"), 8, "models.ials.params.factors", []string{"not a mapping"}},
		{"element of a list parameter", r(stackConfig, "hidden: [32, 16]", "hidden: [32, x]"), 20, "rankers[0].params.hidden[1]", []string{`expected an integer, got "x"`}},
		{"feature parameter", r(stackConfig, "features: {}", "features: {params: {cooc_top_k: x}}"), 15, "features.params.cooc_top_k", []string{`expected an integer, got "x"`}},

		// Unknown keys, with a suggestion when one is close.
		{"unknown key, close", validConfig + "retreive: {}\n", 15, "retreive", []string{`unknown key; did you mean "retrieve"?`}},
		{"unknown key, far", validConfig + "extra: 1\n", 15, "extra", []string{"unknown key (known: name, dataset, split, models, retrieve"}},
		{"unknown nested key", r(validConfig, "{model: ials, k: 50}", "{model: ials, kk: 50}"), 13, "retrieve.sources[0].kk", []string{`did you mean "k"?`}},
		{"unknown parameter, close", r(validConfig, "factors: 8", "factorz: 8"), 8, "models.ials.params.factorz", []string{`unknown parameter for type ials; did you mean "factors"?`}},
		{"unknown parameter, far", r(validConfig, "factors: 8", "colour: 8"), 8, "models.ials.params.colour", []string{"unknown parameter for type ials (known: factors, alpha, reg"}},
		{"unknown ranker parameter", r(stackConfig, "leaves: [15, 31]", "leafs: 15"), 23, "rankers[1].params.leafs", []string{`unknown parameter for ranker type lightgbm; did you mean "leaves"?`}},
		{"unknown feature parameter", r(stackConfig, "features: {}", "features: {params: {half_life_dayz: 3}}"), 15, "features.params.half_life_dayz", []string{`did you mean "half_life_days"?`}},
		{"model without parameters", r(validConfig, "    type: popularity\n", "    type: popularity\n    params: {k: 1}\n"), 5, "models.pop.params.k", []string{"type popularity takes no parameters"}},

		// Each Validate's error, at its key.
		{"ials", r(validConfig, "alpha: [1, 4]", "alpha: -1"), 9, "models.ials.params.alpha", []string{"must be a finite number ≥ 0, got -1"}},
		{"ials grid element", r(validConfig, "alpha: [1, 4]", "alpha: [1, -4]"), 9, "models.ials.params.alpha[1]", []string{"got -4"}},
		{"ials empty grid", r(validConfig, "alpha: [1, 4]", "alpha: []"), 9, "models.ials.params.alpha", []string{"empty list"}},
		{"als", withModel("  als: {type: als, params: {reg: 0}}"), 3, "models.als.params.reg", []string{"must be a finite number > 0, got 0"}},
		{"twotower", withModel("  tt: {type: twotower, params: {dim: 8, heads: 3}}"), 3, "models.tt.params.heads", []string{"divide dim (8), got 3"}},
		{"twotower key not in the file", withModel("  tt: {type: twotower, params: {loss: gramian}}"), 3, "models.tt.params.correction", []string{`with loss "gramian"`}},
		{"attention", r(stackConfig, "hidden: [32, 16]", "hidden: [32, 0]"), 20, "rankers[0].params.hidden[1]", []string{"must be in [1, 65536], got 0"}},
		{"attention grid of lists", r(stackConfig, "hidden: [32, 16]", "hidden: [[32], [16, 0]]"), 20, "rankers[0].params.hidden[1][1]", []string{"got 0"}},
		{"attention string", r(stackConfig, "hidden: [32, 16]", "attention: dinn"), 20, "rankers[0].params.attention", []string{`must be "din", "dot" or "mean", got "dinn"`}},
		{"features", r(stackConfig, "features: {}", "features: {params: {cooc_top_k: 0}}"), 15, "features.params.cooc_top_k", []string{"must be in [1, 65536], got 0"}},
		{"features list element", r(stackConfig, "features: {}", "features: {params: {features: [score, bogus]}}"), 15, "features.params.features[1]", []string{`unknown feature or family "bogus"`}},
		{"features grid", r(stackConfig, "features: {}", "features: {params: {half_life_days: [1, 2]}}"), 15, "features.params.half_life_days", []string{"grids are for models"}},
		{"lightgbm grid element", r(stackConfig, "leaves: [15, 31]", "leaves: [15, 1]"), 23, "rankers[1].params.leaves[1]", []string{"must be in [2, 131072], got 1"}},

		// The file's own checks.
		{"unknown model type", r(validConfig, "type: popularity", "type: magic"), 4, "models.pop.type", []string{`unknown model type "magic"`}},
		{"unknown source model", r(validConfig, "{model: ials, k: 50}", "{model: nope, k: 50}"), 13, "retrieve.sources[0].model", []string{`no model named "nope"`}},
		{"bad k", r(validConfig, "{model: ials, k: 50}", "{model: ials, k: 0}"), 13, "retrieve.sources[0].k", []string{"got 0"}},
		{"bad final k", r(validConfig, "final: {k: 20}", "final: {k: -1}"), 14, "final.k", []string{"got -1"}},
		{"bad metric", validConfig + "tuning: {metric: auc}\n", 15, "tuning.metric", []string{`unknown metric "auc"`}},
		{"bad fraction", validConfig + "split: {train_fraction: 1.5}\n", 15, "split.train_fraction", []string{"got 1.5"}},
		{"unknown fallback", validConfig + "fallback: x\n", 15, "fallback", []string{`no model named "x"`}},
		{"no models", "retrieve: {sources: [{model: a, k: 1}]}\n", 0, "models", []string{"at least one model"}},
		{"unknown dropped feature", r(stackConfig, "[item_age_days, score]", "[item_age, score]"), 24, "rankers[1].drop_features[1][0]", []string{`"item_age" is not a feature`}},
		{"mixed drop grid", r(stackConfig, "[[], [item_age_days, score]]", "[[], score]"), 24, "rankers[1].drop_features[1]", []string{"a list at every position"}},
		{"unknown ranking data source", validConfig + "ranking_data: {source: impresions}\n", 15, "ranking_data.source", []string{`unknown source "impresions"; did you mean "impressions"?`}},
		{"impressions key, candidates source", validConfig + "ranking_data: {window_hours: 2}\n", 15, "ranking_data.window_hours", []string{"applies to source impressions only (this file's source is candidates)"}},
		{"candidates key, impressions source", validConfig + "ranking_data:\n  source: impressions\n  horizon_days: 2\n", 17, "ranking_data.horizon_days", []string{"applies to source candidates only"}},
		{"negative window", validConfig + "ranking_data: {source: impressions, window_hours: -1}\n", 15, "ranking_data.window_hours", []string{"must be ≥ 0, got -1"}},
		{"window not a number", validConfig + "ranking_data: {source: impressions, window_hours: soon}\n", 15, "ranking_data.window_hours", []string{`expected a number, got "soon"`}},
		{"position feature not a bool", validConfig + "ranking_data: {source: impressions, position_feature: 0}\n", 15, "ranking_data.position_feature", []string{"expected true or false"}},
		{"weights for attention", stackConfig + "ranking_data: {source: impressions, propensity_weighting: true}\n", 25, "ranking_data.propensity_weighting", []string{"ranker attention (rankers[0]) is attention"}},
		{"unknown impressions key", validConfig + "ranking_data: {source: impressions, windw_hours: 2}\n", 15, "ranking_data.windw_hours", []string{`did you mean "window_hours"?`}},
		// The events section.
		{"event type key, close", validConfig + "events:\n  types:\n    buy: {wieght: 10}\n", 17, "events.types.buy.wieght", []string{`unknown key; did you mean "weight"?`}},
		{"events key, close", validConfig + "events: {positive: [buy]}\n", 15, "events.positive", []string{`did you mean "positives"?`}},
		{"event weight type", validConfig + "events:\n  types:\n    buy: {weight: lots}\n", 17, "events.types.buy.weight", []string{`expected a number, got "lots"`}},
		{"event weight range", validConfig + "events:\n  types:\n    view: {weight: 1}\n    buy: {weight: 0}\n", 18, "events.types.buy.weight", []string{"must be a finite number > 0, got 0", "drop it"}},
		{"dropped with weight", validConfig + "events:\n  types:\n    impression: {drop: true, weight: 2}\n", 17, "events.types.impression.weight", []string{"a dropped type takes no weight"}},
		{"dropped positive", validConfig + "events:\n  types: {impression: {drop: true}}\n  positives: [buy, impression]\n", 17, "events.positives[1]", []string{`"impression" is dropped at load`}},
		{"positive twice", validConfig + "events:\n  positives: [buy, buy]\n", 16, "events.positives[1]", []string{`"buy" is listed twice`}},
		{"positives not a list", validConfig + "events: {positives: buy}\n", 15, "events.positives", []string{`expected a list of strings, got "buy"`}},
		{"too many stacks", r(stackConfig, "leaves: [15, 31]", "leaves: [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]"), 16, "rankers", []string{"more than 48"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig("t.yaml", []byte(c.yaml))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if ce.File != "t.yaml" || ce.Line != c.line || ce.Key != c.key {
				t.Errorf("%v: at %s:%d key %q, want line %d key %q", err, ce.File, ce.Line, ce.Key, c.line, c.key)
			}
			for _, w := range c.msg {
				if !strings.Contains(ce.Msg, w) {
					t.Errorf("message %q lacks %q", ce.Msg, w)
				}
			}
			for _, goTerm := range []string{"Go struct", "Go value", "unmarshal", "interface {}", "\n"} {
				if strings.Contains(err.Error(), goTerm) {
					t.Errorf("%q speaks Go or spans lines (%q)", err, goTerm)
				}
			}
		})
	}
}

// The two examples of issue 15, word for word.
func TestConfigErrorText(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{replace(t, validConfig, "factors: 8", "iterations: many"), `t.yaml:8: models.ials.params.iterations: expected an integer, got "many"`},
		{replace(t, validConfig, "final: {k: 20}", "final: {k: lots}"), `t.yaml:14: final.k: expected an integer, got "lots"`},
	} {
		if _, err := ParseConfig("t.yaml", []byte(c.yaml)); err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %s", err, c.want)
		}
	}
}

// A Validate that reports several fields at once gets one located error per field.
func TestLocatedJoinsFieldErrors(t *testing.T) {
	cfg, err := ParseConfig("t.yaml", []byte(validConfig))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.located("models.ials.params", errors.Join(params.Errorf("alpha", "bad"), params.Errorf("reg[2]", "worse")))
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		got = append(got, e.Error())
	}
	want := []string{"t.yaml:9: models.ials.params.alpha: bad", "t.yaml:10: models.ials.params.reg[2]: worse"}
	if !slices.Equal(got, want) {
		t.Fatalf("errors %q, want %q", got, want)
	}
	if cfg.located("x", errors.New("no field")) != nil {
		t.Fatal("an error without FieldError was located")
	}
}

func TestDidYouMean(t *testing.T) {
	known := []string{"factors", "alpha", "reg", "reg_exponent", "iterations", "k"}
	for _, c := range []struct{ key, want string }{
		{"factorz", `; did you mean "factors"?`},
		{"Factors", `; did you mean "factors"?`},
		{"alhpa", `; did you mean "alpha"?`}, // a swap is one edit
		{"iteration", `; did you mean "iterations"?`},
		{"reg_exp", " (known: factors, alpha, reg, reg_exponent, iterations, k)"}, // 5 edits from reg_exponent
		{"x", `; did you mean "k"?`},
		{"seed", " (known: factors, alpha, reg, reg_exponent, iterations, k)"},
	} {
		if got := didYouMean(c.key, known); got != c.want {
			t.Errorf("%s: %q, want %q", c.key, got, c.want)
		}
	}
	if got := didYouMean("x", nil); got != "" {
		t.Errorf("no known keys: %q", got)
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"abc", "abc", 0},
		{"kitten", "sitting", 3}, {"factorz", "factors", 1}, {"retreive", "retrieve", 1},
		{"leafs", "leaves", 2}, {"ca", "abc", 3}, // optimal string alignment: no edit of a swapped pair
		{"héllo", "hello", 1},
	} {
		if d := editDistance(c.a, c.b); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
		if d := editDistance(c.b, c.a); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetric)", c.b, c.a, d, c.d)
		}
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
