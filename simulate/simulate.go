package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/synth"
)

// Options are a run's environment.
type Options struct {
	// OutDir receives the world (world/), the bundle (bundle/) and a served log per round
	// (rounds/round-NNN.jsonl). Required.
	OutDir string
	Logger *slog.Logger
}

// Report is what Run measured; `cascade simulate --json` writes it.
type Report struct {
	Config      Config        `json:"config"`
	ClickModel  ClickModel    `json:"click_model"`
	Policies    []string      `json:"policies"`
	Rounds      []RoundReport `json:"rounds"`
	Summary     Summary       `json:"summary"`
	SetupSecond float64       `json:"setup_seconds"` // world generation and bundle training
	RunSeconds  float64       `json:"run_seconds"`   // the rounds
}

// RoundReport is one round's figures per policy.
type RoundReport struct {
	Round int `json:"round"`
	// Reward is the mean over the round's slates of the exact expected clicks.
	Reward map[string]float64 `json:"reward"`
	// JunkShare is the share of slate slots whose item's true affinity for the user is below the
	// median over the catalog.
	JunkShare map[string]float64 `json:"junk_share"`
	// Coverage is the share of the catalog shown to at least one user in the round.
	Coverage map[string]float64 `json:"coverage"`
	// Clicks is the mean realised clicks per slate.
	Clicks map[string]float64 `json:"clicks"`
	// RewardVsOracle is Reward divided by the oracle's.
	RewardVsOracle map[string]float64 `json:"reward_vs_oracle"`
	// CandidateJunkShare is, for the cascade policies, the junk share of the pipeline's candidate
	// lists the slates were chosen from.
	CandidateJunkShare map[string]float64 `json:"candidate_junk_share"`
	// CandidateCeiling is, for the cascade policies, the mean expected reward of the best slates
	// their candidate lists allowed (the true top k among the candidates): what a perfect
	// re-ranker would earn.
	CandidateCeiling map[string]float64 `json:"candidate_ceiling"`
	// TrainingRows is, for the cascade policies, the impressions the re-ranker that served this
	// round was trained on (0: the bundle's own ranking); for the two-tower generators, the
	// examples of the model that served.
	TrainingRows map[string]int `json:"training_rows"`
	// RerankerSize is, for the cascade policies with a re-ranker, its leaves per tree and trees
	// (chosen on held-out slates unless the file fixes them).
	RerankerSize map[string][2]int `json:"reranker_size,omitempty"`
	// CandidateRecall is, for the policies with a candidate list, the share of each user's k
	// unseen items of highest true affinity that the list holds.
	CandidateRecall map[string]float64 `json:"candidate_recall,omitempty"`
	// CandidateUnshown is, for the two-tower generators, the share of candidate slots given to
	// items that no slate of the policy's log has shown (candgen.go).
	CandidateUnshown map[string]float64 `json:"candidate_unshown,omitempty"`
}

// Summary answers issue 13's figures for the policy named "cascade".
type Summary struct {
	// FirstRoundAt90 is the first round whose reward is at least 90% of the oracle's (−1: none).
	FirstRoundAt90 int `json:"first_round_at_90pct_oracle"`
	// BestVsOracle is the highest reward-to-oracle ratio over the rounds, FinalVsOracle the last.
	BestVsOracle  float64 `json:"best_vs_oracle"`
	FinalVsOracle float64 `json:"final_vs_oracle"`
	// FinalVsPopularity is the last round's reward divided by popularity's.
	FinalVsPopularity float64 `json:"final_vs_popularity"`
}

// Run builds the world and the cascade bundle and runs cfg.Rounds rounds.
func Run(ctx context.Context, cfg Config, opt Options) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opt.OutDir == "" {
		return nil, fmt.Errorf("simulate: no output directory")
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	sc := worldConfig(cfg)
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("simulate: world: %w", err)
	}
	log.Info("generating the synthetic world", "users", sc.Users, "items", sc.Items, "events", sc.Events, "seed", sc.Seed)
	w, err := synth.Generate(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	worldDir := filepath.Join(opt.OutDir, "world")
	if err := w.WriteDir(worldDir); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	ds, err := dataset.Load(worldDir, dataset.LoadOptions{Format: dataset.FormatGeneric, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	p, err := trainBundle(ctx, cfg, ds, filepath.Join(opt.OutDir, "bundle"), log)
	if err != nil {
		return nil, err
	}
	roundsDir := filepath.Join(opt.OutDir, "rounds")
	if err := os.MkdirAll(roundsDir, 0o755); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}

	ids := newIDMap(ds, len(w.Users), len(w.Items))
	var policies []Policy
	for i, mode := range cfg.Exploration {
		policies = append(policies, &cascadePolicy{
			name: cfg.policyName(i), p: p, ids: ids, candidates: cfg.Candidates,
			explore: explorer{mode: mode, epsilon: cfg.Epsilon, temperature: cfg.Temperature},
			retrain: cfg.Retrain,
			rr: &reranker{cfg: cfg.Reranker, seed: int(cfg.Seed % math.MaxInt32), log: log,
				stages: p.RankingStages(), numItems: p.NumItems(), workers: cfg.Workers},
			log: log,
		})
	}
	// A pipeline file with variants: each variant serves beside the rest, with the first
	// exploration mode, as "variant-NAME" (every policy sees every sampled user, so the variants
	// are compared on the same users, with the world's exact expected reward).
	for _, v := range p.Variants() {
		vp := p.Variant(v)
		policies = append(policies, &cascadePolicy{
			name: "variant-" + v, variant: v, p: vp, ids: ids, candidates: cfg.Candidates,
			explore: explorer{mode: cfg.Exploration[0], epsilon: cfg.Epsilon, temperature: cfg.Temperature},
			retrain: cfg.Retrain,
			rr: &reranker{cfg: cfg.Reranker, seed: int(cfg.Seed % math.MaxInt32), log: log,
				stages: vp.RankingStages(), numItems: vp.NumItems(), workers: cfg.Workers},
			log: log,
		})
	}
	if name := cfg.Reranker.TruthFeature; name != "" {
		log.Warn("diagnostic: the re-ranker is given the world's truth as a feature", "truth_feature", name)
		for _, pol := range policies {
			pol.(*cascadePolicy).rr.truth = truthColumn(w.Truth, ids, name)
		}
	}
	towers, err := newTowerPolicies(ctx, cfg, w, ds, ids, log)
	if err != nil {
		return nil, err
	}
	policies = append(policies, towers...)
	policies = append(policies, oracle{}, newPopularity(len(w.Items), func(yield func(int) bool) {
		for _, e := range w.Events {
			if !yield(int(e.Item)) {
				return
			}
		}
	}), random{items: len(w.Items)})

	r := &runner{cfg: cfg, w: w, cm: WorldClickModel(sc), log: log, policies: policies}
	for range policies {
		r.pops = append(r.pops, newPopulation(w))
	}
	rep := &Report{Config: cfg, ClickModel: r.cm, SetupSecond: time.Since(start).Seconds()}
	for _, pol := range policies {
		rep.Policies = append(rep.Policies, pol.Name())
	}
	start = time.Now()
	for round := range cfg.Rounds {
		rr, err := r.round(ctx, round, roundLogName(roundsDir, round))
		if err != nil {
			return nil, err
		}
		rep.Rounds = append(rep.Rounds, rr)
		log.Info("simulated round", "round", round, "cascade", rr.Reward["cascade"], "oracle", rr.Reward["oracle"],
			"popularity", rr.Reward["popularity"], "random", rr.Reward["random"], "cascade_vs_oracle", rr.RewardVsOracle["cascade"])
	}
	rep.RunSeconds = time.Since(start).Seconds()
	rep.Summary = summarize(rep.Rounds)
	return rep, nil
}

// worldConfig is the synthetic world of cfg: synth's defaults at cfg's size and seed.
func worldConfig(cfg Config) synth.Config {
	sc := synth.DefaultConfig()
	sc.Seed = int64(cfg.Seed)
	sc.Users, sc.Items, sc.Events, sc.Impressions = cfg.World.Users, cfg.World.Items, cfg.World.Events, cfg.World.Impressions
	if v := cfg.World.ShortTermWeight; v != nil {
		sc.ShortTermWeight = *v
	}
	if v := cfg.World.Drift; v != nil {
		sc.Drift = *v
	}
	return sc
}

func summarize(rounds []RoundReport) Summary {
	s := Summary{FirstRoundAt90: -1}
	for _, rr := range rounds {
		v := rr.RewardVsOracle["cascade"]
		if s.FirstRoundAt90 < 0 && v >= 0.9 {
			s.FirstRoundAt90 = rr.Round
		}
		s.BestVsOracle = max(s.BestVsOracle, v)
	}
	if n := len(rounds); n > 0 {
		last := rounds[n-1]
		s.FinalVsOracle = last.RewardVsOracle["cascade"]
		s.FinalVsPopularity = ratio(last.Reward["cascade"], last.Reward["popularity"])
	}
	return s
}

// runner holds the state carried from round to round.
type runner struct {
	cfg      Config
	w        *synth.World
	cm       ClickModel
	log      *slog.Logger
	policies []Policy
	pops     []*population // per policy
}

// Streams of the per-round random sources.
const (
	streamUsers uint64 = iota + 1
	streamServe
	streamClick
)

// source returns the random source of (stream, round, a, b) under the run's seed.
func (r *runner) source(stream uint64, round, a, b int) *rand.Rand {
	h := r.cfg.Seed
	for _, x := range [...]uint64{stream, uint64(round), uint64(a), uint64(b)} {
		h = splitmix(h ^ x)
	}
	return rand.New(rand.NewPCG(h, splitmix(h)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// round runs one simulated day: every policy serves the same sampled users (each from its own
// copy of their histories), the clicks are drawn (the same uniform draws per user and position for
// every policy), the log is written, the histories take the clicks and the policies learn.
func (r *runner) round(ctx context.Context, round int, logPath string) (RoundReport, error) {
	cfg := r.cfg
	t := r.w.End + int64(round)*86400 + 43200
	users := r.source(streamUsers, round, 0, 0).Perm(len(r.w.Users))[:cfg.UsersPerRound]
	slices.Sort(users)
	rep := RoundReport{
		Round: round, Reward: map[string]float64{}, JunkShare: map[string]float64{}, Coverage: map[string]float64{},
		Clicks: map[string]float64{}, RewardVsOracle: map[string]float64{}, CandidateJunkShare: map[string]float64{},
		TrainingRows: map[string]int{}, RerankerSize: map[string][2]int{}, CandidateCeiling: map[string]float64{},
		CandidateRecall: map[string]float64{}, CandidateUnshown: map[string]float64{},
	}
	served := map[string][]Served{}
	rewards := map[string][]float64{}
	var names []string
	for pi, pol := range r.policies {
		name := pol.Name()
		names = append(names, name)
		reqs := make([]*Request, len(users))
		for n, u := range users {
			s := r.pops[pi].get(u)
			reqs[n] = &Request{Round: round, User: u, Time: t, K: cfg.K, state: s, historyLen: len(s.items), Rand: r.source(streamServe, round, pi, u)}
		}
		out := make([]Served, len(users))
		mets := make([]slateMetrics, len(users))
		err := r.parallel(ctx, len(users), func(n int) error {
			req := reqs[n]
			req.Affinity = req.state.affinities(r.w.Truth, req.User, t)
			s, err := pol.Serve(ctx, req)
			if err != nil {
				return err
			}
			click := r.source(streamClick, round, 0, req.User)
			s.Clicked = make([]bool, len(s.Slots))
			for k, slot := range s.Slots {
				s.Clicked[k] = click.Float64() < r.cm.Click(slot.Position, req.Affinity[slot.Item])
			}
			mets[n] = measure(r.cm, req.Affinity, median(req.Affinity), s)
			out[n] = s
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("simulate: round %d: %w", round, err)
		}
		var tot roundTotals
		for n := range out {
			tot.add(mets[n], out[n])
			rewards[name] = append(rewards[name], mets[n].reward)
		}
		rep.Reward[name] = tot.meanReward()
		rep.JunkShare[name] = tot.junkShare()
		rep.Coverage[name] = tot.coverage(len(r.w.Items))
		rep.Clicks[name] = ratio(float64(tot.clicks), float64(tot.slates))
		if _, ok := pol.(*cascadePolicy); ok || tot.cands > 0 {
			rep.CandidateJunkShare[name] = ratio(float64(tot.cJunk), float64(tot.cands))
			rep.CandidateCeiling[name] = ratio(tot.ceiling, float64(tot.slates))
			rep.CandidateRecall[name] = ratio(float64(tot.topHits), float64(tot.top))
		}
		if tp, ok := pol.(*towerPolicy); ok {
			rep.TrainingRows[name] = tp.examples
			rep.CandidateUnshown[name] = tp.unshownShare(out)
		}
		if c, ok := pol.(*cascadePolicy); ok {
			if c.rr.model != nil {
				rep.TrainingRows[name] = c.rr.rows()
				rep.RerankerSize[name] = c.rr.size
			} else {
				rep.TrainingRows[name] = 0
			}
		}
		served[name] = out
	}
	for _, name := range names {
		rep.RewardVsOracle[name] = ratio(rep.Reward[name], rep.Reward["oracle"])
	}
	variants := map[string]string{}
	for _, pol := range r.policies {
		if c, ok := pol.(*cascadePolicy); ok && c.variant != "" {
			variants[c.name] = c.variant
		}
	}
	if err := writeRoundLog(logPath, round, served, names, rewards, variants); err != nil {
		return rep, err
	}
	for pi, pol := range r.policies {
		for _, s := range served[pol.Name()] {
			var clicked []int
			for k, slot := range s.Slots {
				if s.Clicked[k] {
					clicked = append(clicked, slot.Item)
				}
			}
			r.pops[pi].get(s.Request.User).click(clicked, t)
		}
		if err := pol.Learn(ctx, round, served[pol.Name()]); err != nil {
			return rep, fmt.Errorf("simulate: round %d: %w", round, err)
		}
	}
	return rep, nil
}

// parallel runs fn(0..n−1) on cfg.Workers goroutines and returns the first error (by index).
func (r *runner) parallel(ctx context.Context, n int, fn func(int) error) error {
	workers := r.cfg.Workers
	if workers <= 0 {
		workers = max(1, runtimeProcs())
	}
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= n || ctx.Err() != nil {
					return
				}
				errs[j] = fn(j)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
