package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/features"
	"github.com/cascade-rec/cascade/ranker"
	"github.com/cascade-rec/cascade/replay"
)

// Pipeline is a trained bundle assembled into the stages its file declares: retrieve (sources,
// merge) → filter → features → rankers → top k. It is safe for concurrent use.
type Pipeline struct {
	cfg      *Config
	manifest *Manifest
	sources  []source
	fallback Model
	excluded []bool // by dense item ID: dropped by the filter's exclude list and rules
	extract  *features.Extractor
	rankers  []rankerStage
	// wide names the columns of a request's feature matrix: the extractor's, then one score
	// column per ranker ("ranker_<name>") that later rankers may read.
	wide []string
	pool sync.Pool // *scratch
}

type source struct {
	name string
	k    int
	m    Model
}

type rankerStage struct {
	name   string
	keep   int
	budget time.Duration
	m      rankerModel
	cols   []int // the ranker's features as columns of the wide matrix
}

// Result is a pipeline's answer: the final list and what each stage did.
type Result struct {
	Items  []candidates.Candidate
	Stages []StageResult
	// Explain is set when RecommendOptions.Explain asks for it.
	Explain *Explanation
}

// StageResult is one stage's output list, timing and whether it fell back.
type StageResult struct {
	Name     string
	Items    []candidates.Candidate
	In, Out  int
	Duration time.Duration
	// Fallback says the stage failed or ran out of budget and its declared fallback was used
	// (a source: the fallback model's list; features or a ranker: the previous order).
	Fallback bool
	Err      string // why it fell back
}

// Explanation gives, per final item, each stage's view of it.
type Explanation struct {
	FeatureNames []string
	Items        []ItemExplanation
}

// ItemExplanation is one final item's trace through the stages.
type ItemExplanation struct {
	Item         int32
	Sources      map[string]int     // source name → 1-based rank in its list
	RankerScores map[string]float32 // ranker name → score
	Features     []float32          // in FeatureNames order
}

// RecommendOptions tune one call.
type RecommendOptions struct {
	Explain bool
}

// Open loads the bundle in dir for cfg. When ds is not nil it must be the data set the bundle was
// trained on (same events and item IDs), since dense IDs are only meaningful against it; filter
// rules on attributes need it.
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
	checked := func(e *ModelEntry, what string) (string, error) {
		path := filepath.Join(dir, e.Artifact)
		if sum, err := fileSHA256(path); err != nil {
			return "", fmt.Errorf("model bundle: %w", err)
		} else if sum != e.SHA256 {
			return "", fmt.Errorf("model bundle: %s (%s) does not match the checksum in manifest.json (replaced or damaged)", path, what)
		}
		return path, nil
	}
	models := map[string]Model{}
	need := []string{cfg.FallbackModel()}
	for _, s := range cfg.Retrieve.Sources {
		need = append(need, s.Model)
	}
	if cfg.Features != nil {
		need = append(need, cfg.ModelNames()...) // every model's score is a feature
	}
	for _, name := range need {
		if _, ok := models[name]; ok {
			continue
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
		path, err := checked(e, "model "+name)
		if err != nil {
			return nil, err
		}
		if models[name], err = kind.load(path); err != nil {
			return nil, fmt.Errorf("model bundle: model %q: %w", name, err)
		}
	}
	var stats *features.Stats
	if cfg.Features != nil {
		if man.Features == nil {
			return nil, fmt.Errorf("model bundle %s has no feature statistics: retrain with this pipeline file", dir)
		}
		path, err := checked(&man.Features.ModelEntry, "feature statistics")
		if err != nil {
			return nil, err
		}
		if stats, err = features.Load(path); err != nil {
			return nil, fmt.Errorf("model bundle: %w", err)
		}
	}
	if man.RankerStack != nil || man.StackSelection != nil {
		// Validation chose which of the file's rankers run.
		if cfg, err = cfg.withRankers(man.RankerStack); err != nil {
			return nil, fmt.Errorf("model bundle %s: %w", dir, err)
		}
	}
	rankers := make([]rankerModel, len(cfg.Rankers))
	for i, rc := range cfg.Rankers {
		e, ok := man.Rankers[rc.Name]
		if !ok || e.Type != rc.Type {
			return nil, fmt.Errorf("model bundle %s has no %s ranker %q: retrain with this pipeline file", dir, rc.Type, rc.Name)
		}
		path, err := checked(e, "ranker "+rc.Name)
		if err != nil {
			return nil, err
		}
		if rankers[i], err = rankerKinds[rc.Type].load(path); err != nil {
			return nil, fmt.Errorf("model bundle: ranker %q: %w", rc.Name, err)
		}
	}
	p, err := assemble(cfg, models, stats, rankers, ds, man.Split.TrainItems)
	if err != nil {
		return nil, fmt.Errorf("model bundle %s: %w", dir, err)
	}
	p.manifest = man
	return p, nil
}

// assemble wires trained parts into a pipeline (Open and the training of rankers share it, so
// that rankers learn from exactly what serving computes). numItems bounds the catalog.
func assemble(cfg *Config, models map[string]Model, stats *features.Stats, rankers []rankerModel, ds *dataset.Dataset, numItems int) (*Pipeline, error) {
	p := &Pipeline{cfg: cfg, fallback: models[cfg.FallbackModel()]}
	if p.fallback == nil {
		return nil, fmt.Errorf("fallback model %q is missing", cfg.FallbackModel())
	}
	for _, s := range cfg.Retrieve.Sources {
		p.sources = append(p.sources, source{name: s.Model, k: s.K, m: models[s.Model]})
	}
	var err error
	if p.excluded, err = cfg.exclusions(ds, numItems); err != nil {
		return nil, err
	}
	if stats != nil {
		var scorers []features.NamedScorer
		for _, name := range cfg.ModelNames() {
			if sc, ok := models[name].(candidates.Scorer); ok {
				scorers = append(scorers, features.NamedScorer{Name: name, Scorer: sc})
			}
		}
		names := make([]string, len(p.sources))
		for i, s := range p.sources {
			names[i] = s.name
		}
		if p.extract, err = features.NewExtractor(stats, scorers, names); err != nil {
			return nil, err
		}
		p.wide = slices.Clone(p.extract.FeatureNames())
	}
	for i, rc := range cfg.Rankers {
		if i >= len(rankers) || rankers[i] == nil {
			break // training assembles the stages before the rankers exist
		}
		st := rankerStage{name: rc.Name, keep: rc.Keep, budget: ms(rc.BudgetMS), m: rankers[i]}
		idx := map[string]int{}
		for c, n := range p.wide {
			idx[n] = c
		}
		for _, n := range rankers[i].FeatureNames() {
			c, ok := idx[n]
			if !ok {
				return nil, fmt.Errorf("ranker %q reads features this pipeline does not compute: %w", rc.Name, ranker.CheckFeatures(rankers[i].FeatureNames(), p.wide))
			}
			st.cols = append(st.cols, c)
		}
		p.rankers = append(p.rankers, st)
		p.wide = append(p.wide, rankerColumn(rc.Name))
	}
	p.pool.New = func() any { return &scratch{seen: map[int32]struct{}{}} }
	return p, nil
}

func rankerColumn(name string) string { return "ranker_" + name }

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// exclusions marks the items the filter drops, or returns nil when it drops none.
func (c *Config) exclusions(ds *dataset.Dataset, numItems int) ([]bool, error) {
	if len(c.Filter.Exclude) == 0 && len(c.Filter.Rules) == 0 {
		return nil, nil
	}
	if ds == nil {
		return nil, errors.New("the filter's exclude list and rules need the data set (--data)")
	}
	ex := make([]bool, numItems)
	for _, id := range c.Filter.Exclude {
		if i, ok := ds.Items.Lookup(id); ok && int(i) < numItems {
			ex[i] = true
		}
	}
	for ri, r := range c.Filter.Rules {
		if col := ds.ItemAttrs.Column(r.Column); col != nil {
			drop := map[int32]bool{}
			for _, v := range r.Values {
				if id, ok := col.Dict.Lookup(v); ok {
					drop[id] = true
				}
			}
			for i := 0; i < numItems && i < len(col.Values); i++ {
				for _, v := range col.Values[i] {
					if drop[v] {
						ex[i] = true
					}
				}
			}
			continue
		}
		var num *dataset.NumericColumn
		if ds.ItemAttrs != nil {
			for k := range ds.ItemAttrs.Numeric {
				if ds.ItemAttrs.Numeric[k].Name == r.Column {
					num = &ds.ItemAttrs.Numeric[k]
				}
			}
		}
		if num == nil {
			return nil, c.errAt(fmt.Sprintf("$.filter.rules[%d].column", ri), fmt.Sprintf("filter.rules[%d].column", ri), "data set %s has no item attribute %q", ds.Name, r.Column)
		}
		for i := 0; i < numItems && i < len(num.Values); i++ {
			v := float64(num.Values[i])
			if (r.Min != nil && v < *r.Min) || (r.Max != nil && v > *r.Max) {
				ex[i] = true
			}
		}
	}
	return ex, nil
}

// models returns the first-stage models by name.
func (p *Pipeline) models() map[string]Model {
	m := map[string]Model{}
	for _, s := range p.sources {
		m[s.name] = s.m
	}
	m[p.cfg.FallbackModel()] = p.fallback
	return m
}

// ErrNoEmbeddings is returned by Similar when no model of the pipeline embeds items.
var ErrNoEmbeddings = errors.New("no model of this pipeline embeds items (similar items need a twotower model)")

// Similar returns the k items nearest to item by the first model that embeds items (the
// two-tower's item tower), best first, leaving out the item itself.
func (p *Pipeline) Similar(ctx context.Context, item int32, k int) ([]candidates.Candidate, error) {
	type embedder interface {
		ItemEmbeddings() []float32
		Dim() int
	}
	models := p.models()
	for _, name := range p.cfg.ModelNames() {
		m, ok := models[name]
		if !ok {
			continue
		}
		e, ok := m.(embedder)
		if !ok {
			continue
		}
		emb, d := e.ItemEmbeddings(), e.Dim()
		n := len(emb) / d
		if item < 0 || int(item) >= n {
			return nil, fmt.Errorf("item %d is not in the catalog of model %s (%d items)", item, name, n)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q := emb[int(item)*d : (int(item)+1)*d]
		scores := make([]float32, n)
		for i := range scores {
			var s float32
			for j, v := range emb[i*d : (i+1)*d] {
				s += v * q[j]
			}
			scores[i] = s
		}
		return candidates.TopK(scores, k, func(id int32) bool { return id == item }, nil), nil
	}
	return nil, ErrNoEmbeddings
}

// Manifest returns the bundle's manifest (nil for a pipeline assembled during training).
func (p *Pipeline) Manifest() *Manifest { return p.manifest }

// FeatureNames are the columns of the feature matrix (nil without a feature stage).
func (p *Pipeline) FeatureNames() []string { return p.wide }

type scratch struct {
	lists  [][]candidates.Candidate
	seen   map[int32]struct{}
	batch  features.Batch
	wide   []float32
	cols   []float32
	scores []float32
	order  []int
	perm   []int
	next   []int
	ids    []int32
	items  []int32
}

// Recommend runs the stages for q. Items for which skip is true (may be nil) are left out
// everywhere, as are seen items when the filter excludes them.
func (p *Pipeline) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool, opt RecommendOptions) (Result, error) {
	var res Result
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	merged, err := p.retrieve(ctx, sc, q, skip, &res)
	if err != nil {
		return res, err
	}
	current := merged
	if len(p.rankers) > 0 && len(current) > 0 {
		var err error
		current, err = p.rank(ctx, sc, q, current, &res, opt)
		if err != nil {
			return res, err
		}
	}
	res.Items = current[:min(len(current), p.cfg.Final.K)]
	return res, nil
}

// retrieve runs the sources (each under its budget, a failing one replaced by the fallback
// model) and merges their lists. The source lists stay in sc.lists for the feature stage.
func (p *Pipeline) retrieve(ctx context.Context, sc *scratch, q candidates.Query, skip func(int32) bool, res *Result) ([]candidates.Candidate, error) {
	drop := p.dropFunc(sc, q, skip)
	for len(sc.lists) < len(p.sources) {
		sc.lists = append(sc.lists, nil)
	}
	for i, s := range p.sources {
		start := time.Now()
		sctx, cancel := withBudget(ctx, ms(p.cfg.Retrieve.BudgetMS))
		items, err := s.m.Recommend(sctx, q, s.k, drop, sc.lists[i][:0])
		cancel()
		st := StageResult{Name: s.name}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			st.Fallback, st.Err = true, err.Error()
			if items, err = p.fallback.Recommend(ctx, q, s.k, drop, sc.lists[i][:0]); err != nil {
				return nil, fmt.Errorf("source %s and its fallback: %w", s.name, err)
			}
		}
		sc.lists[i] = items
		st.Items = slices.Clone(items)
		st.Out, st.Duration = len(items), time.Since(start)
		res.Stages = append(res.Stages, st)
	}
	start := time.Now()
	merged := p.merge(sc, res.Stages)
	if len(p.sources) > 1 {
		res.Stages = append(res.Stages, StageResult{Name: "merged", Items: merged, In: sumOut(res.Stages), Out: len(merged), Duration: time.Since(start)})
	}
	return merged, nil
}

// dropFunc is the filter stage as a predicate: seen items (when excluded), the exclude list and
// attribute rules, and the caller's skip.
func (p *Pipeline) dropFunc(sc *scratch, q candidates.Query, skip func(int32) bool) func(int32) bool {
	clear(sc.seen)
	if *p.cfg.Filter.ExcludeSeen {
		for _, it := range q.History {
			sc.seen[it] = struct{}{}
		}
	}
	return func(id int32) bool {
		if _, ok := sc.seen[id]; ok {
			return true
		}
		if p.excluded != nil && int(id) < len(p.excluded) && p.excluded[id] {
			return true
		}
		return skip != nil && skip(id)
	}
}

func sumOut(st []StageResult) int {
	n := 0
	for _, s := range st {
		n += s.Out
	}
	return n
}

func withBudget(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// featureMatrix computes the wide feature matrix of items into sc.wide (extractor columns
// filled, ranker columns NaN).
func (p *Pipeline) featureMatrix(ctx context.Context, sc *scratch, q candidates.Query, items []int32) error {
	sc.batch.Reset(q, items)
	for i, s := range p.sources {
		sc.batch.AddSource(s.name, sc.lists[i])
	}
	w := len(p.wide)
	sc.wide = grow(sc.wide, len(items)*w)
	for i := range sc.wide {
		sc.wide[i] = float32(math.NaN())
	}
	return p.extract.Fill(ctx, &sc.batch, sc.wide, w)
}

// rank runs the feature stage and the rankers over the merged candidates.
func (p *Pipeline) rank(ctx context.Context, sc *scratch, q candidates.Query, merged []candidates.Candidate, res *Result, opt RecommendOptions) ([]candidates.Candidate, error) {
	start := time.Now()
	sc.items = sc.items[:0]
	for _, c := range merged {
		sc.items = append(sc.items, c.Item)
	}
	fctx, cancel := withBudget(ctx, ms(p.cfg.Features.BudgetMS))
	err := p.featureMatrix(fctx, sc, q, sc.items)
	cancel()
	st := StageResult{Name: "features", In: len(merged), Out: len(merged), Duration: time.Since(start)}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Without features no ranker can run: keep the merged order.
		st.Fallback, st.Err = true, err.Error()
		res.Stages = append(res.Stages, st)
		return merged, nil
	}
	res.Stages = append(res.Stages, st)
	w := len(p.wide)
	// order holds row indexes of the wide matrix, best first.
	sc.order = sc.order[:0]
	for i := range merged {
		sc.order = append(sc.order, i)
	}
	current := merged
	for ri, r := range p.rankers {
		start := time.Now()
		n := len(sc.order)
		sc.cols = grow(sc.cols, n*len(r.cols))
		ids := sc.ids[:0]
		for k, row := range sc.order {
			src := sc.wide[row*w:]
			dst := sc.cols[k*len(r.cols) : (k+1)*len(r.cols)]
			for j, c := range r.cols {
				dst[j] = src[c]
			}
			ids = append(ids, sc.items[row])
		}
		sc.ids = ids
		sc.scores = grow(sc.scores, n)
		rctx, cancel := withBudget(ctx, r.budget)
		err := r.m.Score(rctx, q, ids, sc.cols, sc.scores)
		cancel()
		st := StageResult{Name: r.name, In: n}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			st.Fallback, st.Err = true, err.Error() // keep the previous order
		} else {
			col := len(p.extract.FeatureNames()) + ri
			for k, row := range sc.order {
				sc.wide[row*w+col] = sc.scores[k]
			}
			// Sort rows by score (desc), ties by the previous order.
			perm := sc.perm[:0]
			for k := 0; k < n; k++ {
				perm = append(perm, k)
			}
			sc.perm = perm
			scores := sc.scores[:n]
			slices.SortStableFunc(perm, func(a, b int) int {
				switch {
				case scores[a] > scores[b]:
					return -1
				case scores[a] < scores[b]:
					return 1
				}
				return 0
			})
			if cap(sc.next) < n {
				sc.next = make([]int, n)
			}
			next := sc.next[:n]
			ranked := make([]candidates.Candidate, n) // returned to the caller: not pooled
			for k, pk := range perm {
				next[k] = sc.order[pk]
				ranked[k] = candidates.Candidate{Item: sc.items[sc.order[pk]], Score: scores[pk]}
			}
			copy(sc.order, next)
			current = ranked
		}
		if r.keep > 0 && len(current) > r.keep {
			current = current[:r.keep]
			sc.order = sc.order[:r.keep]
		}
		st.Items, st.Out, st.Duration = current, len(current), time.Since(start)
		res.Stages = append(res.Stages, st)
	}
	if opt.Explain {
		res.Explain = p.explain(sc, res, current)
	}
	return current, nil
}

func (p *Pipeline) explain(sc *scratch, res *Result, final []candidates.Candidate) *Explanation {
	w := len(p.wide)
	ex := &Explanation{FeatureNames: p.wide}
	rowOf := map[int32]int{}
	for row, it := range sc.items {
		rowOf[it] = row
	}
	for _, c := range final[:min(len(final), p.cfg.Final.K)] {
		ie := ItemExplanation{Item: c.Item, Sources: map[string]int{}, RankerScores: map[string]float32{}}
		for i, s := range p.sources {
			for r, sc := range sc.lists[i] {
				if sc.Item == c.Item {
					ie.Sources[s.name] = r + 1
					break
				}
			}
		}
		if row, ok := rowOf[c.Item]; ok {
			ie.Features = slices.Clone(sc.wide[row*w : (row+1)*w])
			base := len(p.extract.FeatureNames())
			for ri, r := range p.rankers {
				ie.RankerScores[r.name] = ie.Features[base+ri]
			}
		}
		ex.Items = append(ex.Items, ie)
	}
	return ex
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// merge combines the source lists, keeping each item's first position. Scores are the merged
// rank's reciprocal, since scores of different sources are not comparable.
func (p *Pipeline) merge(sc *scratch, stages []StageResult) []candidates.Candidate {
	if len(stages) == 1 {
		return stages[0].Items
	}
	seen := make(map[int32]struct{}, 2*len(stages[0].Items))
	var out []candidates.Candidate
	add := func(c candidates.Candidate) {
		if _, dup := seen[c.Item]; dup {
			return
		}
		seen[c.Item] = struct{}{}
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

type pipelineReplay struct{ p *Pipeline }

func (r pipelineReplay) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (replay.Response, error) {
	res, err := r.p.Recommend(ctx, q, skip, RecommendOptions{})
	if err != nil {
		return replay.Response{}, err
	}
	out := replay.Response{Items: res.Items}
	for _, s := range res.Stages {
		if s.Name == "features" {
			continue // same list as the stage before it
		}
		out.Stages = append(out.Stages, replay.Stage{Name: s.Name, Items: s.Items, Duration: s.Duration})
	}
	return out, nil
}

// Fallback answers q with the fallback model alone (the non-personal list for histories with no
// known item), applying the filter like the full path does.
func (p *Pipeline) Fallback(ctx context.Context, q candidates.Query, n int, skip func(int32) bool) ([]candidates.Candidate, error) {
	sc := p.pool.Get().(*scratch)
	defer p.pool.Put(sc)
	drop := p.dropFunc(sc, q, skip)
	items, err := p.fallback.Recommend(ctx, q, n, drop, nil)
	if err != nil {
		return nil, fmt.Errorf("fallback: %w", err)
	}
	return items, nil
}

// FallbackReplay adapts the fallback model to the replay evaluator. Its answer stands in for every
// stage, so per-stage recall counts fallback steps the way replay-v1 counts them for the model.
func (p *Pipeline) FallbackReplay() replay.Recommender { return fallbackReplay{p} }

type fallbackReplay struct{ p *Pipeline }

func (r fallbackReplay) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (replay.Response, error) {
	n := r.p.cfg.Final.K
	for _, s := range r.p.sources {
		n = max(n, s.k)
	}
	items, err := r.p.Fallback(ctx, q, n, skip)
	if err != nil {
		return replay.Response{}, err
	}
	out := replay.Response{Items: items[:min(len(items), r.p.cfg.Final.K)]}
	for _, s := range r.p.sources {
		out.Stages = append(out.Stages, replay.Stage{Name: s.name, Items: items[:min(len(items), s.k)]})
	}
	if len(r.p.sources) > 1 {
		out.Stages = append(out.Stages, replay.Stage{Name: "merged", Items: items})
	}
	for _, rk := range r.p.rankers {
		keep := len(items)
		if rk.keep > 0 {
			keep = min(keep, rk.keep)
		}
		out.Stages = append(out.Stages, replay.Stage{Name: rk.name, Items: items[:keep]})
	}
	return out, nil
}
