package pipeline

import (
	"context"

	"github.com/cascade-rec/cascade/candidates"
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
