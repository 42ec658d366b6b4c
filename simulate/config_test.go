package simulate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/synth"
)

// The world's taste knobs reach synth when set and keep synth's defaults when unset; out of
// range they are errors naming their key.
func TestWorldTasteKnobs(t *testing.T) {
	def := synth.DefaultConfig()
	for _, c := range []struct {
		yaml        string
		beta, drift float64
		err         string
	}{
		{"rounds: 2\n", def.ShortTermWeight, def.Drift, ""},
		{"world: {short_term_weight: 0}\n", 0, def.Drift, ""},
		{"world: {short_term_weight: 0.7, drift: 0}\n", 0.7, 0, ""},
		{"world: {short_term_weight: 1.5}\n", 0, 0, "world.short_term_weight"},
		{"world: {drift: -0.1}\n", 0, 0, "world.drift"},
	} {
		cfg, ok := loadYAML(t, c.yaml, c.err)
		if !ok {
			continue
		}
		sc := worldConfig(cfg)
		if sc.ShortTermWeight != c.beta || sc.Drift != c.drift {
			t.Errorf("%q: world β = %v, drift = %v; want %v, %v", c.yaml, sc.ShortTermWeight, sc.Drift, c.beta, c.drift)
		}
	}
}

// The re-ranker's keys: select_leaves overlays the default list (an empty list turns the choice
// off, so that leaves and trees apply; so does setting leaves alone), and bad values are errors
// naming their key.
func TestRerankerKeys(t *testing.T) {
	for _, c := range []struct {
		yaml   string
		leaves []int
		truth  string
		err    string
	}{
		{"rounds: 2\n", []int{2, 4, 8, 15, 31}, "", ""},
		{"reranker: {select_leaves: [], leaves: 15, trees: 100}\n", []int{}, "", ""},
		{"reranker: {leaves: 31, trees: 300}\n", nil, "", ""},
		{"reranker: {leaves: 31, select_leaves: [4, 8]}\n", []int{4, 8}, "", ""},
		{"reranker: {select_leaves: [3, 7], truth_feature: long_term}\n", []int{3, 7}, TruthLongTerm, ""},
		{"reranker: {select_leaves: [1, 4]}\n", nil, "", "reranker.select_leaves"},
		{"reranker: {truth_feature: clicks}\n", nil, "", "reranker.truth_feature"},
	} {
		cfg, ok := loadYAML(t, c.yaml, c.err)
		if !ok {
			continue
		}
		if !slices.Equal(cfg.Reranker.SelectLeaves, c.leaves) || cfg.Reranker.TruthFeature != c.truth {
			t.Errorf("%q: select_leaves %v, truth_feature %q; want %v, %q", c.yaml, cfg.Reranker.SelectLeaves, cfg.Reranker.TruthFeature, c.leaves, c.truth)
		}
	}
}

// loadYAML loads a simulation file of the given text. With wantErr set it checks that loading
// fails with an error naming wantErr and returns false; otherwise loading must succeed.
func loadYAML(t *testing.T, text, wantErr string) (Config, bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sim.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: error %v, want one naming %s", text, err, wantErr)
		}
		return cfg, false
	}
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return cfg, true
}
