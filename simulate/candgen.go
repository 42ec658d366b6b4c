package simulate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/twotower"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/params"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/synth"
)

// Two-tower training modes of the candidate-generator experiment (issue 13, 3a).
const (
	// TowerImpressions learns only from logged slates: clicked = positive, shown and not
	// clicked = negative, a softmax over the slate (examples impressions, negatives shown).
	TowerImpressions = "impressions"
	// TowerMixed learns from the same slates with the batch's other clicks and uniformly
	// sampled catalog items added as negatives (examples impressions, negatives mixed).
	TowerMixed = "mixed"
	// TowerImpressionsInBatch is mixed without the uniform items: the slate's unclicked items
	// and the batch's other clicks, logQ-corrected (examples impressions, negatives in_batch).
	TowerImpressionsInBatch = "impressions_in_batch"
	// TowerInBatch is the default two-tower: every event a positive, in-batch softmax with
	// logQ (examples events, negatives in_batch) — it never sees a slate.
	TowerInBatch = "in_batch"
)

// TowerConfig adds two-tower candidate generators beside the cascade, one policy per mode
// ("twotower-MODE"): each serves its own top `candidates` items, shows the first k, and at each
// round's end retrains from scratch on what its mode learns from — the world's logged slates
// (impressions.jsonl) and its own slates so far, or the world's events and its own clicks.
type TowerConfig struct {
	Modes []string `yaml:"modes"` // impressions | mixed | impressions_in_batch | in_batch; empty: no generator
	// Params is the model; Examples and Negatives are set by the mode (MixedNegatives, the
	// uniform items per batch of mode mixed, is read from here).
	Params twotower.Params `yaml:"params"`
}

// DefaultTowerParams is a two-tower small enough to retrain every round on the loaded machine:
// d = 32, 20 history items, 6 epochs without early stopping (the simulation has no held-out
// period to stop on, and every mode gets the same budget).
func DefaultTowerParams() twotower.Params {
	p := twotower.DefaultParams()
	p.Dim, p.Hidden, p.HistoryLen, p.AttrDim, p.ContextDim = 32, []int{64}, 20, 8, 4
	p.Epochs, p.ValidationFraction = 6, 0
	return p
}

func (c TowerConfig) validate() error {
	if len(c.Modes) == 0 {
		return nil
	}
	errs := modeList("towers.modes", c.Modes, TowerImpressions, TowerMixed, TowerImpressionsInBatch, TowerInBatch)
	for _, m := range c.Modes {
		if p, err := c.paramsFor(m); err == nil {
			errs = append(errs, params.Prefix("towers.params", p.Validate()))
		}
	}
	return errors.Join(errs...)
}

// paramsFor is the model of mode m.
func (c TowerConfig) paramsFor(m string) (twotower.Params, error) {
	p := c.Params
	switch m {
	case TowerImpressions:
		p.Examples, p.Negatives = twotower.ExamplesImpressions, twotower.NegativesShown
	case TowerMixed:
		p.Examples, p.Negatives = twotower.ExamplesImpressions, twotower.NegativesMixed
	case TowerImpressionsInBatch:
		p.Examples, p.Negatives = twotower.ExamplesImpressions, twotower.NegativesInBatch
	case TowerInBatch:
		p.Examples, p.Negatives = "", twotower.NegativesInBatch
	default:
		return p, fmt.Errorf("simulate: unknown tower mode %q", m)
	}
	return p, nil
}

// towerPolicy is one two-tower candidate generator in the loop.
type towerPolicy struct {
	name string
	p    twotower.Params
	ids  *idMap
	n    int // candidates served
	log  *slog.Logger

	data     twotower.TrainData // the world's events and slates, then the policy's own
	model    *twotower.Model
	shown    []bool // per dense item: in a slate of the log
	examples int    // the serving model's training examples
}

// newTowerPolicies trains each mode's first model on the world's window: the events, and the
// logging policy's slates (impressions.jsonl) with their clicks.
func newTowerPolicies(ctx context.Context, cfg Config, w *synth.World, ds *dataset.Dataset, ids *idMap, log *slog.Logger) ([]Policy, error) {
	var out []Policy
	for _, mode := range cfg.Towers.Modes {
		p, err := cfg.Towers.paramsFor(mode)
		if err != nil {
			return nil, err
		}
		p.Seed = cfg.Seed
		tp := &towerPolicy{name: "twotower-" + mode, p: p, ids: ids, n: cfg.Candidates, log: log,
			shown: make([]bool, ds.NumItems())}
		tp.data = twotower.TrainData{Events: slices.Clone(ds.Events), NumUsers: ds.NumUsers(), NumItems: ds.NumItems(), ItemAttrs: ds.ItemAttrs}
		for _, imp := range w.Impressions {
			ti := twotower.Impression{User: ids.userDense[imp.User], Time: imp.Time}
			for _, s := range imp.Shown {
				ti.Shown = append(ti.Shown, ids.itemDense[s.Item])
				ti.Clicked = append(ti.Clicked, slices.Contains(imp.Clicked, s.Item))
			}
			tp.add(ti)
		}
		if err := tp.train(ctx); err != nil {
			return nil, err
		}
		out = append(out, tp)
	}
	return out, nil
}

func (tp *towerPolicy) Name() string { return tp.name }

// add logs one slate for the modes that learn from slates, and marks its items shown.
func (tp *towerPolicy) add(imp twotower.Impression) {
	tp.data.Impressions = append(tp.data.Impressions, imp)
	for _, it := range imp.Shown {
		if it >= 0 {
			tp.shown[it] = true
		}
	}
}

// towerWorkers is the fixed goroutine count of the generators' training: a two-tower is
// reproducible for a seed and worker count, and a run must not depend on --workers.
const towerWorkers = 2

func (tp *towerPolicy) train(ctx context.Context) error {
	m, st, err := twotower.Train(ctx, tp.data, tp.p, twotower.Options{Workers: towerWorkers, Logger: quietLogger(tp.log), Progress: progress.Options{Disabled: true}})
	if err != nil {
		return fmt.Errorf("simulate: %s: %w", tp.name, err)
	}
	tp.model, tp.examples = m, st.Samples
	tp.log.Info("two-tower generator trained", "policy", tp.name, "examples", st.Samples, "slates", len(tp.data.Impressions),
		"events", len(tp.data.Events), "seconds", math.Round(st.TrainTime.Seconds()*10)/10)
	return nil
}

// quietLogger drops the two-tower's per-epoch lines.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(discardBelow{l.Handler(), slog.LevelWarn})
}

type discardBelow struct {
	slog.Handler
	min slog.Level
}

func (d discardBelow) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= d.min && d.Handler.Enabled(ctx, l)
}

// Serve shows the first k of the model's top n unseen items; the n are the candidate list.
func (tp *towerPolicy) Serve(ctx context.Context, req *Request) (Served, error) {
	s := req.state
	q := candidates.Query{User: tp.ids.userDense[req.User], Time: req.Time}
	for _, i := range s.items {
		if d := tp.ids.itemDense[i]; d >= 0 {
			q.History = append(q.History, d)
		}
	}
	skip := func(d int32) bool {
		i := tp.ids.denseItem[d]
		return i < 0 || s.seen[i]
	}
	res, err := tp.model.Recommend(ctx, q, tp.n, skip, nil)
	if err != nil {
		return Served{}, fmt.Errorf("simulate: %s: user %d: %w", tp.name, req.User, err)
	}
	out := Served{Request: req, Query: q}
	for k, c := range res {
		i := tp.ids.denseItem[c.Item]
		out.Candidates = append(out.Candidates, i)
		if k < req.K {
			out.Slots = append(out.Slots, Slot{Item: i, Position: k + 1, Score: float64(c.Score), Propensity: 1})
		}
	}
	return out, nil
}

// unshownShare is the share of candidate slots given to items no slate of the policy's log has
// shown: the article's "documents never shown", which a model trained on slates alone never saw
// as a negative.
func (tp *towerPolicy) unshownShare(served []Served) float64 {
	var n, un int
	for _, s := range served {
		for _, i := range s.Candidates {
			n++
			if d := tp.ids.itemDense[i]; d < 0 || !tp.shown[d] {
				un++
			}
		}
	}
	return ratio(float64(un), float64(n))
}

// Learn logs the round's slates (and their clicks as events) and retrains from scratch.
func (tp *towerPolicy) Learn(ctx context.Context, round int, served []Served) error {
	for _, s := range served {
		u := tp.ids.userDense[s.Request.User]
		imp := twotower.Impression{User: u, Time: s.Request.Time}
		for k, slot := range s.Slots {
			d := tp.ids.itemDense[slot.Item]
			imp.Shown = append(imp.Shown, d)
			imp.Clicked = append(imp.Clicked, s.Clicked[k])
			if s.Clicked[k] && d >= 0 && u >= 0 {
				tp.data.Events = append(tp.data.Events, dataset.Event{User: u, Item: d, Time: s.Request.Time, Value: float32(math.NaN())})
			}
		}
		tp.add(imp)
	}
	return tp.train(ctx)
}
