package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/replay"
)

// Pipeline is a trained bundle assembled into the stages its file declares. It is safe for
// concurrent use.
type Pipeline struct {
	cfg      *Config
	manifest *Manifest
	sources  []source
	fallback Model
	pool     sync.Pool // *scratch
}

type source struct {
	name string
	k    int
	m    Model
}

// Result is a pipeline's answer: the final list and what each stage produced.
type Result struct {
	Items  []candidates.Candidate
	Stages []StageResult
}

// StageResult is one stage's output list and timing.
type StageResult struct {
	Name     string
	Items    []candidates.Candidate
	Duration time.Duration
}

// Open loads the bundle in dir for cfg. When ds is not nil it must be the data set the bundle was
// trained on (same events and item IDs), since dense IDs are only meaningful against it.
func Open(cfg *Config, dir string, ds *dataset.Dataset) (*Pipeline, error) {
	man, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if ds != nil {
		if got := describeDataset(ds); got.Fingerprint != man.Dataset.Fingerprint {
			return nil, fmt.Errorf("model bundle %s was trained on %s (%d events) but the data given is %s (%d events): train on this data first", dir, man.Dataset.Name, man.Dataset.Events, got.Name, got.Events)
		}
	}
	loaded := map[string]Model{}
	load := func(name string) (Model, error) {
		if m, ok := loaded[name]; ok {
			return m, nil
		}
		e, ok := man.Models[name]
		if !ok {
			return nil, fmt.Errorf("model bundle %s has no model %q: retrain with this pipeline file", dir, name)
		}
		if mc, ok := cfg.Models[name]; ok && mc.Type != e.Type {
			return nil, fmt.Errorf("model bundle %s: model %q is a %s, the pipeline file says %s", dir, name, e.Type, mc.Type)
		}
		kind, ok := kinds[e.Type]
		if !ok {
			return nil, fmt.Errorf("model bundle %s: model %q has unknown type %q", dir, name, e.Type)
		}
		path := filepath.Join(dir, e.Artifact)
		if sum, err := fileSHA256(path); err != nil {
			return nil, fmt.Errorf("model bundle: %w", err)
		} else if sum != e.SHA256 {
			return nil, fmt.Errorf("model bundle: %s does not match the checksum in manifest.json (replaced or damaged)", path)
		}
		m, err := kind.load(path)
		if err != nil {
			return nil, fmt.Errorf("model bundle: model %q: %w", name, err)
		}
		loaded[name] = m
		return m, nil
	}
	p := &Pipeline{cfg: cfg, manifest: man}
	for _, s := range cfg.Retrieve.Sources {
		m, err := load(s.Model)
		if err != nil {
			return nil, err
		}
		p.sources = append(p.sources, source{name: s.Model, k: s.K, m: m})
	}
	if p.fallback, err = load(cfg.FallbackModel()); err != nil {
		return nil, err
	}
	p.pool.New = func() any { return &scratch{seen: map[int32]struct{}{}} }
	return p, nil
}

// Manifest returns the bundle's manifest.
func (p *Pipeline) Manifest() *Manifest { return p.manifest }

type scratch struct {
	lists [][]candidates.Candidate
	seen  map[int32]struct{}
}

// Recommend runs the stages for q. Items for which skip is true are left out everywhere.
func (p *Pipeline) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (Result, error) {
	var res Result
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	for len(sc.lists) < len(p.sources) {
		sc.lists = append(sc.lists, nil)
	}
	for i, s := range p.sources {
		start := time.Now()
		items, err := s.m.Recommend(ctx, q, s.k, skip, sc.lists[i][:0])
		if err != nil {
			return res, fmt.Errorf("source %s: %w", s.name, err)
		}
		sc.lists[i] = items
		res.Stages = append(res.Stages, StageResult{Name: s.name, Items: append([]candidates.Candidate(nil), items...), Duration: time.Since(start)})
	}
	start := time.Now()
	merged := p.merge(sc, res.Stages)
	if len(p.sources) > 1 {
		res.Stages = append(res.Stages, StageResult{Name: "merged", Items: merged, Duration: time.Since(start)})
	}
	res.Items = merged[:min(len(merged), p.cfg.Final.K)]
	return res, nil
}

// merge combines the source lists, keeping each item's first position. Scores are the merged
// rank's reciprocal, since scores of different sources are not comparable.
func (p *Pipeline) merge(sc *scratch, stages []StageResult) []candidates.Candidate {
	if len(stages) == 1 {
		return stages[0].Items
	}
	clear(sc.seen)
	var out []candidates.Candidate
	add := func(c candidates.Candidate) {
		if _, dup := sc.seen[c.Item]; dup {
			return
		}
		sc.seen[c.Item] = struct{}{}
		out = append(out, candidates.Candidate{Item: c.Item, Score: 1 / float32(len(out)+1)})
	}
	switch p.cfg.Retrieve.Merge {
	case "concat":
		for _, s := range stages {
			for _, c := range s.Items {
				add(c)
			}
		}
	default: // interleave
		for r := 0; ; r++ {
			more := false
			for _, s := range stages {
				if r < len(s.Items) {
					add(s.Items[r])
					more = true
				}
			}
			if !more {
				break
			}
		}
	}
	return out
}

// Replay adapts the pipeline to the replay evaluator.
func (p *Pipeline) Replay() replay.Recommender { return pipelineReplay{p} }

// FallbackReplay adapts the fallback model to the replay evaluator. Its answer stands in for every
// stage, so per-stage recall counts fallback steps the way replay-v1 counts them for the model.
func (p *Pipeline) FallbackReplay() replay.Recommender { return fallbackReplay{p} }

type fallbackReplay struct{ p *Pipeline }

func (r fallbackReplay) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (replay.Response, error) {
	n := r.p.cfg.Final.K
	for _, s := range r.p.sources {
		n = max(n, s.k)
	}
	items, err := r.p.fallback.Recommend(ctx, q, n, skip, nil)
	if err != nil {
		return replay.Response{}, fmt.Errorf("fallback: %w", err)
	}
	out := replay.Response{Items: items[:min(len(items), r.p.cfg.Final.K)]}
	for _, s := range r.p.sources {
		out.Stages = append(out.Stages, replay.Stage{Name: s.name, Items: items[:min(len(items), s.k)]})
	}
	if len(r.p.sources) > 1 {
		out.Stages = append(out.Stages, replay.Stage{Name: "merged", Items: items})
	}
	return out, nil
}

type pipelineReplay struct{ p *Pipeline }

func (r pipelineReplay) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (replay.Response, error) {
	res, err := r.p.Recommend(ctx, q, skip)
	if err != nil {
		return replay.Response{}, err
	}
	out := replay.Response{Items: res.Items}
	for _, s := range res.Stages {
		out.Stages = append(out.Stages, replay.Stage{Name: s.Name, Items: s.Items})
	}
	return out, nil
}
