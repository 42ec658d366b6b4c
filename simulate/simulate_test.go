package simulate

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/synth"
)

// tinyConfig is a simulation small enough for the package's tests.
func tinyConfig() Config {
	cfg := DefaultConfig()
	cfg.World = WorldConfig{Users: 200, Items: 150, Events: 4000, Impressions: 100}
	cfg.Pipeline = "testdata/tiny.yaml"
	cfg.Rounds = 2
	cfg.UsersPerRound = 30
	cfg.K = 5
	cfg.Candidates = 30
	cfg.Reranker.Trees = 20
	cfg.Reranker.MinDataInLeaf = 5
	return cfg
}

// tinyWorld generates tinyConfig's world.
func tinyWorld(t *testing.T) *synth.World {
	t.Helper()
	w, err := synth.Generate(context.Background(), worldConfig(tinyConfig()))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func runTiny(t *testing.T, cfg Config) (*Report, string) {
	t.Helper()
	dir := t.TempDir()
	rep, err := Run(context.Background(), cfg, Options{OutDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return rep, dir
}

func TestRun(t *testing.T) {
	cfg := tinyConfig()
	rep, dir := runTiny(t, cfg)
	want := []string{"cascade", "cascade-epsilon", "cascade-softmax", "oracle", "popularity", "random"}
	if !reflect.DeepEqual(rep.Policies, want) {
		t.Fatalf("policies %v, want %v", rep.Policies, want)
	}
	if len(rep.Rounds) != cfg.Rounds {
		t.Fatalf("%d rounds reported, want %d", len(rep.Rounds), cfg.Rounds)
	}
	r0 := rep.Rounds[0]
	// In round 0 every policy serves the same histories, and the oracle's slates are the best.
	for _, p := range want {
		if r0.Reward[p] > r0.Reward["oracle"]+1e-12 {
			t.Errorf("round 0: %s earns %v, more than the oracle's %v", p, r0.Reward[p], r0.Reward["oracle"])
		}
		if r0.Reward[p] <= 0 || r0.Coverage[p] <= 0 {
			t.Errorf("round 0: %s has reward %v and coverage %v", p, r0.Reward[p], r0.Coverage[p])
		}
	}
	for _, rr := range rep.Rounds {
		for _, p := range want[:3] {
			if c := rr.CandidateCeiling[p]; c < rr.Reward[p]-1e-12 || c > rr.Reward["oracle"]+1e-12 && rr.Round == 0 {
				t.Errorf("round %d: %s earns %v from candidates whose best slates earn %v (oracle %v)", rr.Round, p, rr.Reward[p], c, rr.Reward["oracle"])
			}
		}
	}
	if r0.JunkShare["oracle"] != 0 {
		t.Errorf("the oracle shows junk: share %v", r0.JunkShare["oracle"])
	}
	for _, rr := range rep.Rounds {
		if js := rr.JunkShare["random"]; js < 0.3 || js > 0.7 {
			t.Errorf("round %d: random slates hold %v junk, want about half", rr.Round, js)
		}
		if rr.Reward["cascade"] <= rr.Reward["random"] {
			t.Errorf("round %d: cascade %v does not beat random %v", rr.Round, rr.Reward["cascade"], rr.Reward["random"])
		}
	}
	// Round 0 serves the bundle's own ranking; round 1 the re-ranker trained on round 0's slates.
	if r0.TrainingRows["cascade"] != 0 || rep.Rounds[1].TrainingRows["cascade"] != cfg.UsersPerRound*cfg.K {
		t.Errorf("training rows %v then %v, want 0 then %d", r0.TrainingRows["cascade"], rep.Rounds[1].TrainingRows["cascade"], cfg.UsersPerRound*cfg.K)
	}
	// The re-ranker's size is reported, within the file's bounds.
	if sz := rep.Rounds[1].RerankerSize["cascade"]; !slices.Contains(append([]int{cfg.Reranker.Leaves}, cfg.Reranker.SelectLeaves...), sz[0]) || sz[1] < 1 || sz[1] > cfg.Reranker.Trees {
		t.Errorf("re-ranker size %v: leaves not among %v, or trees not in [1, %d]", sz, cfg.Reranker.SelectLeaves, cfg.Reranker.Trees)
	}

	// The log: one line per policy and user, with the report's expected rewards.
	for _, rr := range rep.Rounds {
		f, err := os.Open(roundLogName(filepath.Join(dir, "rounds"), rr.Round))
		if err != nil {
			t.Fatal(err)
		}
		sum := map[string]float64{}
		lines := map[string]int{}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var e struct {
				Policy         string   `json:"policy"`
				Round          int      `json:"round"`
				UserID         string   `json:"user_id"`
				ExpectedReward float64  `json:"expected_reward"`
				FeatureNames   []string `json:"feature_names"`
				Items          []struct {
					ItemID     string     `json:"item_id"`
					Position   int        `json:"position"`
					Propensity float64    `json:"propensity"`
					Clicked    *bool      `json:"clicked"`
					Features   []*float64 `json:"features"`
				} `json:"items"`
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			if e.Round != rr.Round || len(e.Items) != cfg.K {
				t.Fatalf("line of round %d with %d items in round %d's log", e.Round, len(e.Items), rr.Round)
			}
			for k, it := range e.Items {
				if it.Position != k+1 || !(it.Propensity > 0 && it.Propensity <= 1) || it.Clicked == nil {
					t.Fatalf("%s: item %+v at index %d", e.Policy, it, k)
				}
				if len(e.FeatureNames) > 0 && len(it.Features) != len(e.FeatureNames) {
					t.Fatalf("%s: %d features for %d names", e.Policy, len(it.Features), len(e.FeatureNames))
				}
			}
			if (e.Policy == "cascade") != (len(e.FeatureNames) > 0) && e.Policy != "cascade-epsilon" && e.Policy != "cascade-softmax" {
				t.Fatalf("%s: feature names %v", e.Policy, e.FeatureNames)
			}
			sum[e.Policy] += e.ExpectedReward
			lines[e.Policy]++
		}
		f.Close()
		for _, p := range want {
			if lines[p] != cfg.UsersPerRound {
				t.Errorf("round %d: %d lines of %s, want %d", rr.Round, lines[p], p, cfg.UsersPerRound)
			}
			if got := sum[p] / float64(lines[p]); math.Abs(got-rr.Reward[p]) > 1e-9 {
				t.Errorf("round %d: the log's mean reward of %s is %v, the report's %v", rr.Round, p, got, rr.Reward[p])
			}
		}
	}
}

// The same seed gives the same rounds and logs whatever the number of workers, sampled negatives
// and propensity weights included.
func TestRunDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two bundles")
	}
	cfg := tinyConfig()
	cfg.Exploration = []string{ExploreSoftmax}
	cfg.Reranker.RandomNegatives, cfg.Reranker.PropensityWeighting = 0.4, true
	cfg.Workers = 1
	a, dirA := runTiny(t, cfg)
	cfg.Workers = 3
	b, dirB := runTiny(t, cfg)
	if !reflect.DeepEqual(a.Rounds, b.Rounds) {
		t.Errorf("same seed, different rounds:\n%+v\n%+v", a.Rounds, b.Rounds)
	}
	// ⌊0.4·k⌋ = 2 sampled negatives beside each slate's k shown items.
	if got, want := a.Rounds[1].TrainingRows["cascade"], cfg.UsersPerRound*(cfg.K+2); got != want {
		t.Errorf("round 1 re-ranker trained on %d rows, want %d", got, want)
	}
	for r := range cfg.Rounds {
		la, err := os.ReadFile(roundLogName(filepath.Join(dirA, "rounds"), r))
		if err != nil {
			t.Fatal(err)
		}
		lb, err := os.ReadFile(roundLogName(filepath.Join(dirB, "rounds"), r))
		if err != nil {
			t.Fatal(err)
		}
		if string(la) != string(lb) {
			t.Errorf("round %d: the served logs differ", r)
		}
	}
}
