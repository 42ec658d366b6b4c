package pipeline

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/cascade-rec/cascade/dataset"
)

// A model's grid is judged on the validation split, by one of two strategies (tuning.strategy):
//
//   - grid: every combination is trained on its full budget and replayed; the best is chosen.
//   - halving: successive halving (Jamieson & Talwalkar 2016). The budget is the model kind's
//     resource parameter (iterations for ALS and iALS, epochs for the two-tower): every
//     combination is trained on a fraction of it and replayed, the best 1/eta are kept and
//     trained on eta times the budget, and so on until the last rung trains the survivors on the
//     full budget. A validation replay costs as much as a training or more (iALS folds a user in
//     at every step), so a rung below the last replays the same fraction of the validation steps
//     (a uniform sample, at least minRungSteps, the same steps for every combination of the
//     rung); the last rung replays them all. Combinations that differ only in serving parameters
//     share one training and are judged together, by their best.
//
// Both end with the chosen combination's model trained on the full budget, which the ranking
// stages are then built with.

// tuner judges one model's grid.
type tuner struct {
	ctx      context.Context
	cfg      *Config
	name     string
	kind     *modelKind
	typ      string
	env      TrainEnv
	valid    dataset.Split
	fallback Model
	ds       *dataset.Dataset
	opt      Options
	entry    *ModelEntry
	trained  map[string]Model // by the combination of training parameters (and budget)
}

// rung is where a trial runs under halving: the zero value is the grid's full budget and replay.
type rung struct {
	n      int // 1-based rung number; 0 for the grid
	budget int // units of the kind's resource; 0: the trial's own
	steps  int // validation steps replayed (a sample); 0: all of them
}

// minRungSteps is the smallest validation sample a halving rung replays: a rung ranks
// combinations against each other on the same steps, and fewer would rank them by noise.
const minRungSteps = 1000

// try trains trial tr's model (or reuses one trained with the same training parameters) on the
// rung's budget, applies its serving parameters and replays the rung's validation steps.
func (t *tuner) try(tr Trial, at rung) (float64, Model, error) {
	start := time.Now()
	p := tr.Params
	key := tr.labelWithout(t.kind.serving)
	if budget := at.budget; budget > 0 {
		var err error
		if p, err = t.withBudget(tr, budget); err != nil {
			return 0, nil, fmt.Errorf("model %s (%s): %w", t.name, tr.Label(), err)
		}
		key += fmt.Sprintf("; %s=%d", t.kind.resource, budget)
	}
	m, ok := t.trained[key]
	cached := false
	if !ok {
		var err error
		if m, cached, err = trainModel(t.ctx, t.opt.Cache, t.typ, t.env, p); err != nil {
			return 0, nil, fmt.Errorf("model %s (%s): %w", t.name, tr.Label(), err)
		}
		t.trained[key] = m
		if !cached {
			t.entry.TuningBudget += fullBudgetOf(t.kind, Trial{Params: p})
		}
	}
	if t.kind.serve != nil {
		var err error
		if m, err = t.kind.serve(m, p); err != nil {
			return 0, nil, fmt.Errorf("model %s (%s): %w", t.name, tr.Label(), err)
		}
	}
	tp, err := trialPipeline(t.name, m, t.fallback, 100, t.valid.TrainItems)
	if err != nil {
		return 0, nil, fmt.Errorf("model %s (%s): %w", t.name, tr.Label(), err)
	}
	rep, err := validationReplay(t.ctx, t.valid, tp.Replay(), t.ds, at.steps, t.opt)
	if err != nil {
		return 0, nil, fmt.Errorf("model %s (%s): validation replay: %w", t.name, tr.Label(), err)
	}
	metric := t.cfg.Tuning.Metric
	score := rep.Metrics[metric]
	res := TrialResult{Params: tr.Values, Metrics: pick(rep.Metrics, "ndcg@10", "hr@10", "hr@100", metric), Seconds: time.Since(start).Seconds(), Cached: cached}
	args := []any{"model", t.name}
	if at.n > 0 {
		res.Rung, res.Budget = at.n, at.budget
		args = append(args, "rung", at.n, t.kind.resource, at.budget)
	}
	if rep.Sample != nil {
		res.Steps = rep.Sample.Steps
		args = append(args, "steps", rep.Sample.Steps)
	}
	t.entry.Trials = append(t.entry.Trials, res)
	prog, left := t.opt.plan.finish(unitTrial, time.Since(start))
	args = append(args, "trial", prog, "params", tr.Label(), metric, fmt.Sprintf("%.5f", score), "left", left)
	t.opt.logger().Info("trial", args...)
	return score, m, nil
}

// grid trains every trial on its full budget: the best (the first of equals) wins.
func (t *tuner) grid(trials []Trial) (best int, score float64, m Model, err error) {
	score = -1
	for i, tr := range trials {
		s, tm, err := t.try(tr, rung{})
		if err != nil {
			return 0, 0, nil, err
		}
		if s > score {
			best, score, m = i, s, tm
		}
	}
	return best, score, m, nil
}

// halving runs successive halving over the trials' training groups.
func (t *tuner) halving(trials []Trial) (best int, score float64, m Model, err error) {
	groups := trainingGroups(trials, t.kind.serving)
	full := fullBudgetOf(t.kind, trials[0])
	keep, budgets := halvingRungs(len(groups), full, t.cfg.Tuning.Eta)
	t.entry.Strategy = StrategyHalving
	alive := make([]int, len(groups)) // indices into groups, best first after each rung
	for i := range alive {
		alive[i] = i
	}
	for r := range keep {
		alive = alive[:min(keep[r], len(alive))]
		last := r == len(keep)-1
		type result struct {
			trial int
			score float64
			model Model
		}
		var results []result
		groupScore := map[int]float64{}
		for _, g := range alive {
			groupScore[g] = -1
			for _, i := range groups[g] {
				s, tm, err := t.try(trials[i], t.rung(r, len(keep), budgets[r], full))
				if err != nil {
					return 0, 0, nil, err
				}
				groupScore[g] = max(groupScore[g], s)
				if last {
					results = append(results, result{i, s, tm})
				}
			}
		}
		if last {
			score = -1
			for _, res := range results { // of equal scores, the first in grid order wins
				if res.score > score || res.score == score && res.trial < best {
					best, score, m = res.trial, res.score, res.model
				}
			}
			return best, score, m, nil
		}
		// Best first; equal scores keep grid order, so the draw is deterministic.
		sort.SliceStable(alive, func(a, b int) bool {
			if groupScore[alive[a]] != groupScore[alive[b]] {
				return groupScore[alive[a]] > groupScore[alive[b]]
			}
			return alive[a] < alive[b]
		})
	}
	return 0, 0, nil, fmt.Errorf("model %s: halving planned no rung", t.name)
}

// rung describes rung r of n: budget units of full, and the same share of the validation steps
// (of at most Options.validationCap, what the last rung replays) below the last rung.
func (t *tuner) rung(r, n, budget, full int) rung {
	at := rung{n: r + 1, budget: budget}
	if r < n-1 {
		all := min(len(t.valid.Test), t.opt.validationCap())
		if steps := max(minRungSteps, all*budget/full); steps < all {
			at.steps = steps
		}
	}
	return at
}

// halves says whether the grid of trials is searched by halving: the file asks for it and the grid
// trains more than one model (a grid of serving parameters alone trains one).
func (c *Config) halves(trials []Trial, kind *modelKind) bool {
	return c.Tuning.Strategy == StrategyHalving && len(trainingGroups(trials, kind.serving)) > 1
}

// trainingGroups partitions the trials (indices, in grid order) by their training parameters:
// trials of a group differ only in serving parameters and share one trained model.
func trainingGroups(trials []Trial, serving []string) [][]int {
	var groups [][]int
	at := map[string]int{}
	for i, tr := range trials {
		k := tr.labelWithout(serving)
		g, ok := at[k]
		if !ok {
			g = len(groups)
			at[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// halvingRungs plans successive halving of n groups with a full budget of full units: rung r
// trains keep[r] groups on budgets[r] units. There are s+1 rungs, s = ⌊log_eta n⌋ but no more
// than the budget can be divided (⌊log_eta full⌋); the last rung trains on the full budget.
func halvingRungs(n, full, eta int) (keep, budgets []int) {
	s := 0
	for p := eta; p <= n && p <= full; p *= eta {
		s++
	}
	div := 1
	for range s {
		div *= eta
	}
	for r, shrink := 0, 1; r <= s; r, shrink = r+1, shrink*eta {
		keep = append(keep, max(1, n/shrink))
		budgets = append(budgets, max(1, full*shrink/div))
	}
	return keep, budgets
}

// halvingTrials counts the replays halving runs over trials (for the plan line).
func halvingTrials(trials []Trial, kind *modelKind, eta int) int {
	groups := trainingGroups(trials, kind.serving)
	per := len(trials) / len(groups) // the grid is a product: every group has the same size
	keep, _ := halvingRungs(len(groups), fullBudgetOf(kind, trials[0]), eta)
	n := 0
	for _, k := range keep {
		n += k * per
	}
	return n
}

// withBudget decodes tr's parameters again with the kind's resource set to budget.
func (t *tuner) withBudget(tr Trial, budget int) (any, error) {
	p := t.kind.newParams()
	if err := decodeAs(tr.Values, p); err != nil {
		return nil, err
	}
	if err := decodeAs(map[string]any{t.kind.resource: budget}, p); err != nil {
		return nil, err
	}
	return p, validate(p)
}

// fullBudgetOf reads the kind's resource parameter from the trial's decoded parameters (0 for a
// kind without one).
func fullBudgetOf(kind *modelKind, tr Trial) int {
	if kind.resource == "" {
		return 0
	}
	v := reflect.ValueOf(tr.Params)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	f, ok := fieldByKey(v.Type(), kind.resource)
	if !ok || !v.FieldByIndex(f.Index).CanInt() {
		return 0
	}
	return int(v.FieldByIndex(f.Index).Int())
}

// validateHalving checks tuning.strategy and tuning.eta, and that halving has a budget to split
// in every model whose grid trains more than one model.
func (c *Config) validateHalving() error {
	strategies := []string{StrategyGrid, StrategyHalving}
	if !slices.Contains(strategies, c.Tuning.Strategy) {
		return c.errorf("tuning.strategy", "unknown strategy %q (want grid or halving)%s", c.Tuning.Strategy, didYouMean(c.Tuning.Strategy, strategies))
	}
	if c.Tuning.Eta < 2 {
		return c.errorf("tuning.eta", "must be at least 2 (halving keeps the best 1/eta of the combinations at each rung), got %d", c.Tuning.Eta)
	}
	if c.Tuning.Strategy != StrategyHalving {
		return nil
	}
	for _, name := range c.ModelNames() {
		m := c.Models[name]
		kind := kinds[m.Type]
		trials, err := c.grid(name, kind)
		if err != nil {
			return err
		}
		if !c.halves(trials, kind) {
			continue // one training: nothing to halve
		}
		if kind.resource == "" {
			return c.errorf("models."+name+".params", "tuning.strategy halving splits a training budget, and type %s has none (its grid needs strategy grid)", m.Type)
		}
		if _, ok := m.Params[kind.resource].([]any); ok {
			return c.errorf("models."+name+".params."+kind.resource, "tuning.strategy halving sets %s at each rung: give one value, the full budget", kind.resource)
		}
		if fullBudgetOf(kind, trials[0]) < 1 {
			return c.errorf("models."+name+".params."+kind.resource, "tuning.strategy halving needs a positive %s to split", kind.resource)
		}
	}
	return nil
}
