package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/features"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/ranker/attention"
)

// A ranking stack is the rankers that run, in file order, each with one combination of its grid.
// A pipeline file declares a family of them (optional rankers, ranker grids, drop_features
// grids); validation picks one (chooseStack).
type stack []stageChoice

type stageChoice struct {
	ranker int // index into Config.Rankers
	trial  rankerTrial
}

// maxStacks bounds the family: each stack costs a ranker training and a validation replay.
const maxStacks = 48

func (s stack) label(cfg *Config) string {
	if len(s) == 0 {
		return "no rankers (merged order)"
	}
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = cfg.Rankers[c.ranker].Name
		if l := c.trial.gridLabel(); l != "" {
			parts[i] += "(" + l + ")"
		}
	}
	return strings.Join(parts, " → ")
}

// names lists the stack's rankers.
func (s stack) names(cfg *Config) []string {
	out := make([]string, len(s))
	for i, c := range s {
		out[i] = cfg.Rankers[c.ranker].Name
	}
	return out
}

// rankingStacks enumerates the stacks of the file: every optional ranker present or absent, every
// combination of every ranker's grid. The first is the file as written (every ranker, the first
// value of each grid).
func (c *Config) rankingStacks() ([]stack, error) {
	stacks := []stack{nil}
	for i, rc := range c.Rankers {
		trials, err := c.rankerTrials(i)
		if err != nil {
			return nil, err
		}
		var next []stack
		for _, s := range stacks {
			for _, tr := range trials {
				next = append(next, append(slices.Clip(s), stageChoice{ranker: i, trial: tr}))
			}
			if rc.Optional {
				next = append(next, s)
			}
		}
		stacks = next
		if len(stacks) > maxStacks {
			return nil, c.errAt("$.rankers", "rankers", "the optional rankers and ranker grids make %d+ stacks to compare, more than %d: shorten the grids", len(stacks), maxStacks)
		}
	}
	return stacks, nil
}

// withStack returns a copy of cfg whose rankers are the stack's, in order.
func (c *Config) withStack(s stack) *Config {
	out := *c
	out.Rankers = make([]RankerConfig, len(s))
	for i, ch := range s {
		out.Rankers[i] = c.Rankers[ch.ranker]
	}
	return &out
}

// withRankers returns a copy of cfg keeping the named rankers (a bundle's chosen stack).
func (c *Config) withRankers(names []string) (*Config, error) {
	out := *c
	var err error
	if out.Rankers, err = keepRankers(c.Rankers, names); err != nil {
		return nil, fmt.Errorf("the bundle's ranking stack does not match the pipeline file (%w): retrain with this pipeline file", err)
	}
	return &out, nil
}

// trainedStage is one trained ranker of a stack.
type trainedStage struct {
	name     string
	m        Ranker
	entry    *ModelEntry
	requests int
}

// stackTrainer trains stacks on one ranking set (built with one ranking_data configuration; the
// trainer reads only the fields that are not grids: negatives, stack and valid fractions, seed). Stacks share prefixes, so trained stages are
// cached by what they depend on: their own choice, the earlier stages and their share of the
// requests.
type stackTrainer struct {
	cfg      *Config
	set      *ranker.Set
	models   map[string]Model // the first-stage models the set was built with (item_init)
	numItems int
	opt      Options
	cache    map[string]trainedStage
}

func newStackTrainer(cfg *Config, set *ranker.Set, models map[string]Model, numItems int, opt Options) *stackTrainer {
	return &stackTrainer{cfg: cfg, set: set, models: models, numItems: numItems, opt: opt, cache: map[string]trainedStage{}}
}

// train trains stack s. The first ranker learns from the earlier stack_fraction of the requests
// and each later one from the rest, with the earlier rankers' scores as features (as serving
// computes them), so that a stacked score is never judged on its own training requests; a single
// ranker uses every request.
func (t *stackTrainer) train(ctx context.Context, s stack) ([]trainedStage, error) {
	cfg, log := t.cfg, t.opt.logger()
	scfg := cfg.withStack(s)
	reqs := t.set.Requests
	cut := len(reqs)
	if len(s) > 1 {
		cut = int(float64(len(reqs)) * cfg.RankingData.StackFraction)
	}
	var out []trainedStage
	var models []Ranker
	for i, ch := range s {
		rc := cfg.Rankers[ch.ranker]
		key := fmt.Sprintf("%d/%d|%s", cut, len(reqs), s[:i+1].label(cfg))
		if ts, ok := t.cache[key]; ok {
			out, models = append(out, ts), append(models, ts.m)
			continue
		}
		part := reqs[:cut]
		if i > 0 {
			part = reqs[cut:]
		}
		names := slices.Clone(t.set.FeatureNames)
		for _, prev := range scfg.Rankers[:i] {
			names = append(names, rankerColumn(prev.Name))
		}
		if i > 0 {
			var err error
			if part, err = applyRankers(ctx, scfg, models, t.set.FeatureNames, part); err != nil {
				return nil, err
			}
		}
		// The rankers read features by name, so leaving columns out is a projection.
		var cols []int
		var kept []string
		for c, n := range names {
			if !slices.ContainsFunc(ch.trial.Drop, func(sel string) bool { return features.Selects(sel, n) }) {
				cols, kept = append(cols, c), append(kept, n)
			}
		}
		rng := rand.New(rand.NewPCG(cfg.RankingData.Seed, 0x5eed+uint64(i)))
		var train []ranker.Request
		for _, r := range part {
			if r.HasPositive() {
				train = append(train, project(sampleNegatives(r, len(names), cfg.RankingData.Negatives, rng), len(names), cols))
			}
		}
		nv := int(float64(len(train)) * cfg.RankingData.ValidFraction)
		if len(train)-nv < 10 || nv < 1 {
			return nil, fmt.Errorf("ranker %s: only %d training requests with a positive: too few validation events (use a longer data set or a larger horizon_days)", rc.Name, len(train))
		}
		trainSet := &ranker.Set{FeatureNames: kept, Requests: train[:len(train)-nv]}
		validSet := &ranker.Set{FeatureNames: kept, Requests: train[len(train)-nv:]}
		kind := rankerKinds[rc.Type]
		start := time.Now()
		entry := &ModelEntry{Type: rc.Type, Chosen: ch.trial.Values, Artifact: "ranker." + rc.Name + "." + rc.Type}
		var m Ranker
		var err error
		if rc.Model != "" {
			path := rc.Model
			if !filepath.IsAbs(path) && cfg.path != "" {
				path = filepath.Join(filepath.Dir(cfg.path), path)
			}
			if m, err = kind.load(path); err != nil {
				return nil, fmt.Errorf("ranker %s: %w", rc.Name, err)
			}
			if err := ranker.CheckFeatures(m.FeatureNames(), names); err != nil {
				return nil, fmt.Errorf("ranker %s: %s: %w", rc.Name, path, err)
			}
		} else {
			log.Info("training ranker", "ranker", rc.Name, "type", rc.Type, "params", ch.trial.Label(), "requests", len(trainSet.Requests), "validation", len(validSet.Requests), "features", len(kept))
			env := RankerEnv{NumItems: t.numItems, Logger: log, Progress: t.opt.Progress, Workers: t.opt.Workers}
			if rc.ItemInit != "" {
				vecs, dim, err := itemVectors(t.models[rc.ItemInit])
				if err != nil {
					return nil, fmt.Errorf("ranker %s: item_init: %w", rc.Name, err)
				}
				if want := ch.trial.Params.(*attention.Params).Dim; dim != want {
					return nil, fmt.Errorf("ranker %s: item_init %s has %d-dimensional vectors, the ranker's dim is %d (set dim: %d)", rc.Name, rc.ItemInit, dim, want, dim)
				}
				env.ItemInit = vecs
			}
			if m, err = kind.train(ctx, env, trainSet, validSet, ch.trial.Params); err != nil {
				return nil, fmt.Errorf("ranker %s: %w", rc.Name, err)
			}
			entry.Params = ch.trial.Params
		}
		entry.TrainSeconds = time.Since(start).Seconds()
		ts := trainedStage{name: rc.Name, m: m, entry: entry, requests: len(train)}
		t.cache[key] = ts
		out, models = append(out, ts), append(models, m)
		log.Info("trained ranker", "ranker", rc.Name, "seconds", fmt.Sprintf("%.1f", entry.TrainSeconds))
	}
	return out, nil
}

// project keeps the columns cols (of nf) of r's feature rows.
func project(r ranker.Request, nf int, cols []int) ranker.Request {
	if len(cols) == nf {
		return r
	}
	dense := make([]float32, 0, len(r.Items)*len(cols))
	for i := range r.Items {
		row := r.Row(i, nf)
		for _, c := range cols {
			dense = append(dense, row[c])
		}
	}
	r.Dense = dense
	return r
}

// StackSelection reports how validation chose the ranking stack.
type StackSelection struct {
	// InnerCut is the start of the window whose events the compared rankers were trained on.
	InnerCut int64 `json:"inner_cut"`
	// Requests counts the ranking requests built there, per ranking data configuration.
	Requests []int        `json:"requests"`
	Trials   []StackTrial `json:"trials"`
	Chosen   string       `json:"chosen"`
	Seconds  float64      `json:"seconds"`
}

// StackTrial is one stack's validation replay.
type StackTrial struct {
	Stack   string             `json:"stack"`
	Metrics map[string]float64 `json:"validation"`
	Seconds float64            `json:"seconds"`
	// Steps is the size of the validation sample replayed when the split has more steps than a
	// trial replays (maxValidationSteps); absent, every step was replayed.
	Steps int `json:"validation_steps,omitempty"`
}

// chooseStack compares the stacks, each on every ranking data configuration of the grid, as they
// would be deployed, one window earlier: the first-stage models are trained (with their chosen
// parameters) on the validation split's train events before an inner cut, ranking requests are
// built at the events between the inner cut and the validation cut, every stack's rankers are
// trained on them, and each stack then runs behind the validation models (trained up to the
// validation cut) in a replay of the validation events — as the final rankers, trained at the
// validation events, will run behind models refit up to the test cut. A skew between the models
// rankers learn from and those they serve with, features whose meaning drifts from one window to
// the next, or rankers that learn the few heavy users of one window cost a stack here as they
// would in production. The test split is never touched.
func chooseStack(ctx context.Context, cfg *Config, ds *dataset.Dataset, valid dataset.Split, validModels map[string]Model, validStats *features.Stats, params map[string]any, stacks []stack, opt Options) (choice, *StackSelection, error) {
	log := opt.logger()
	start := time.Now()
	inner := dataset.TemporalSplit(valid.Train, cfg.Split.ValidationFraction)
	if len(inner.Train) == 0 || len(inner.Test) == 0 {
		return choice{}, nil, fmt.Errorf("choosing the ranking stack: the validation split's train part (%d events) is too short to split again", len(valid.Train))
	}
	log.Info("choosing the ranking stack on the validation split", "stacks", len(stacks), "inner_events", len(inner.Test))
	env := opt.env(inner, ds)
	innerModels := map[string]Model{}
	for _, name := range cfg.ModelNames() {
		m, _, err := trainModel(ctx, opt.Cache, cfg.Models[name].Type, env, params[name])
		if err != nil {
			return choice{}, nil, fmt.Errorf("choosing the ranking stack: model %s: %w", name, err)
		}
		innerModels[name] = m
	}
	if cfg.FallbackModel() == fallbackName {
		m, _, err := trainModel(ctx, opt.Cache, "popularity", env, kinds["popularity"].newParams())
		if err != nil {
			return choice{}, nil, err
		}
		innerModels[fallbackName] = m
	}
	fc, err := cfg.featureConfig()
	if err != nil {
		return choice{}, nil, err
	}
	st, err := features.Build(ctx, inner.Train, inner.TrainItems, ds, fc)
	if err != nil {
		return choice{}, nil, fmt.Errorf("feature statistics (inner window): %w", err)
	}
	p, err := assemble(cfg, innerModels, st, nil, ds, inner.TrainItems)
	if err != nil {
		return choice{}, nil, err
	}
	sel := &StackSelection{InnerCut: inner.Cut}
	var best choice
	bestScore := -1.0
	data := cfg.RankingData.grid()
	for _, rd := range data {
		set, err := buildRankingSet(ctx, p, inner, rd, opt)
		if err != nil {
			return choice{}, nil, err
		}
		sel.Requests = append(sel.Requests, set.Stats.Requests)
		trainer := newStackTrainer(cfg, set, innerModels, inner.TrainItems, opt)
		for _, s := range stacks {
			t0 := time.Now()
			label := s.label(cfg)
			if l := rd.label(cfg.RankingData); l != "" {
				label = l + ": " + label
			}
			trained, err := trainer.train(ctx, s)
			if err != nil {
				return choice{}, nil, err
			}
			rankers := make([]Ranker, len(trained))
			for j, ts := range trained {
				rankers[j] = ts.m
			}
			vp, err := assemble(cfg.withStack(s), validModels, validStats, rankers, ds, valid.TrainItems)
			if err != nil {
				return choice{}, nil, err
			}
			rep, err := validationReplay(ctx, valid, vp.Replay(), ds, 0, opt)
			if err != nil {
				return choice{}, nil, fmt.Errorf("ranking stack %s: validation replay: %w", label, err)
			}
			score := rep.Metrics[cfg.Tuning.Metric]
			trial := StackTrial{Stack: label, Metrics: pick(rep.Metrics, "ndcg@10", "hr@10", "hr@100", cfg.Tuning.Metric), Seconds: time.Since(t0).Seconds()}
			if rep.Sample != nil {
				trial.Steps = rep.Sample.Steps
			}
			sel.Trials = append(sel.Trials, trial)
			prog, left := opt.plan.finish(unitStack, time.Since(t0))
			log.Info("stack trial", "trial", prog, "stack", label, cfg.Tuning.Metric, fmt.Sprintf("%.5f", score), "left", left)
			if score > bestScore {
				best, bestScore = choice{stack: s, data: rd, label: label}, score
			}
		}
	}
	sel.Chosen = best.label
	sel.Seconds = time.Since(start).Seconds()
	log.Info("chosen ranking stack", "stack", sel.Chosen, cfg.Tuning.Metric, fmt.Sprintf("%.5f", bestScore), "seconds", fmt.Sprintf("%.0f", sel.Seconds))
	return best, sel, nil
}

// choice is a ranking stack together with the ranking data it is trained on.
type choice struct {
	stack stack
	data  RankingDataConfig
	label string
}
