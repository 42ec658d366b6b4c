package pipeline

import (
	"context"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
	"github.com/cascade-rec/cascade/replay"
)

// Replay adapts the pipeline to the replay evaluator: every step goes through RecommendDense, the
// call the server makes, with the step's seen items as the caller's exclusions (replay-v1).
func (p *Pipeline) Replay() replay.Recommender { return pipelineReplay{p} }

type pipelineReplay struct{ p *Pipeline }

func (r pipelineReplay) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (replay.Response, error) {
	res, err := r.p.RecommendDense(ctx, Query{Query: q, Skip: skip})
	if err != nil {
		return replay.Response{}, err
	}
	out := replay.Response{Items: res.Items, Degraded: res.Degraded}
	for _, s := range res.Stages {
		if s.Name == "features" {
			continue // same list as the stage before it
		}
		out.Stages = append(out.Stages, replay.Stage{Name: s.Name, Items: s.Items, Duration: s.Duration})
	}
	return out, nil
}

// trialPipeline is the one-source pipeline a grid trial replays: the model's top n, with fallback
// answering histories that hold no item of the catalog [0, numItems), and no filter beyond the
// seen items replay leaves out.
func trialPipeline(name string, m, fallback Model, n, numItems int) (*Pipeline, error) {
	const fb = "_trial_fallback"
	cfg := &Config{
		Name:     name,
		Fallback: fb,
		Retrieve: RetrieveConfig{Sources: []SourceConfig{{Model: name, K: n}}},
		Final:    FinalConfig{K: n},
	}
	no := false
	cfg.Filter.ExcludeSeen = &no
	return assemble(cfg, map[string]Model{name: m, fb: fallback}, nil, nil, nil, numItems)
}

// maxValidationSteps caps the validation steps a grid trial or a stack trial replays. Every trial
// is a full replay of the validation split through its pipeline, and on a large log those replays
// were most of a Train's time (at 1M events, 4 stack trials × 86,000 steps took 60 % of the
// stack selection's CPU). Beyond the cap a trial replays a uniform sample of that many counted
// steps (replay's --sample, the same steps for every trial of a run, so trials are compared on
// paired steps): its 95 % interval on ndcg@10 is about ±0.005 wide at 20,000 steps, and the
// paired difference between two trials is tighter still. Logs whose validation split has no more
// events than the cap (ml-100k and ml-latest-small have about 9,000) are replayed in full, as
// before.
const maxValidationSteps = 20000

// validationSeed draws the validation steps of a sampled trial replay (rungs and capped trials).
const validationSeed = 1

// validationReplay replays valid's test events through rec as a tuning or stack trial does:
// steps counted steps when steps > 0 (a halving rung's share), else all of them, and never more
// than opt.validationCap().
func validationReplay(ctx context.Context, valid dataset.Split, rec replay.Recommender, ds *dataset.Dataset, steps int, opt Options) (*replay.Report, error) {
	if limit := opt.validationCap(); steps <= 0 || steps > limit {
		steps = limit
	}
	if steps >= len(valid.Test) {
		steps = 0 // every step: there are no more counted steps than test events
	}
	return replay.Run(ctx, valid, rec, replay.Options{
		Dataset: ds.Name + "/validation", ItemIDs: ds.Items.IDs(),
		Workers: opt.Workers, Progress: progress.Options{Disabled: true},
		Sample: steps, Seed: validationSeed,
	})
}

// validationCap is the most validation steps a trial replays.
func (o Options) validationCap() int {
	if o.maxSteps > 0 {
		return o.maxSteps
	}
	return maxValidationSteps
}
