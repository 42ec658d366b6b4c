package pipeline

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/features"
	"github.com/cascade-rec/cascade/ranker"
)

// Pipeline is a trained bundle assembled into the stages its file declares: retrieve (sources,
// merge) → filter → features → rankers → top k. It owns a request end to end, the fallback for
// histories it cannot personalise and the degraded answer included. It is safe for concurrent use.
type Pipeline struct {
	cfg      *Config
	manifest *Manifest
	ds       *dataset.Dataset // the catalog's external IDs and attributes; nil during some training steps
	numItems int              // the models' catalog is [0, numItems)
	sources  []source
	fallback Model
	// reserve is the fallback model's non-personal list, computed once: the degraded answer costs
	// no model call, so it is there however starved the machine is.
	reserve  []candidates.Candidate
	excluded []bool      // by dense item ID: dropped by the filter's exclude list and rules
	filter   *itemFilter // nil when the file's filter drops nothing
	// liveDropped holds the items added live (IDs ≥ numItems) that the filter drops, replaced
	// whole by SyncCatalog.
	liveDropped atomic.Pointer[map[int32]bool]
	extract     *features.Extractor
	rankers     []rankerStage
	// wide names the columns of a request's feature matrix: the extractor's, the shown position
	// when the rankers learnt from impressions with it (served as a constant), then one score
	// column per ranker ("ranker_<name>") that later rankers may read.
	wide []string
	base int       // the columns before the rankers'
	pos  int       // the position column, or −1
	pool sync.Pool // *scratch
	// variants are the file's variants assembled over the same models (variants.go), in order.
	variants []variant

	// catalog is the living catalog (catalog.go): set from ds by assemble, or shared by
	// UseCatalog. syncMu serialises SyncCatalog; applied is the catalog change counter the
	// models have seen.
	catalog atomic.Pointer[Catalog]
	syncMu  sync.Mutex
	applied uint64
	attrsIn bool // the live models have the training attributes
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
	m      Ranker
	cols   []int // the ranker's features as columns of the wide matrix
}

// scratch is one request's reusable buffers (pooled: steady-state requests allocate nothing per
// candidate).
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

// assemble wires trained parts into a pipeline (Open and the training of rankers share it, so
// that rankers learn from exactly what serving computes). numItems bounds the catalog.
func assemble(cfg *Config, models map[string]Model, stats *features.Stats, rankers []Ranker, ds *dataset.Dataset, numItems int) (*Pipeline, error) {
	p := &Pipeline{cfg: cfg, ds: ds, numItems: numItems, fallback: models[cfg.FallbackModel()], pos: -1}
	if ds != nil {
		p.catalog.Store(NewCatalog(ds))
	}
	if p.fallback == nil {
		return nil, fmt.Errorf("fallback model %q is missing", cfg.FallbackModel())
	}
	for _, s := range cfg.Retrieve.Sources {
		p.sources = append(p.sources, source{name: s.Model, k: s.K, m: models[s.Model]})
	}
	var err error
	if p.filter, err = cfg.itemFilter(ds); err != nil {
		return nil, err
	}
	p.excluded = p.filter.exclusions(ds, numItems)
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
		if cfg.RankingData.positionColumn() {
			p.pos = len(p.wide)
			p.wide = append(p.wide, ranker.PositionFeature)
		}
		p.base = len(p.wide)
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
	if p.reserve, err = p.reserveList(); err != nil {
		return nil, err
	}
	return p, nil
}

func rankerColumn(name string) string { return "ranker_" + name }

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// models returns the first-stage models by name.
func (p *Pipeline) models() map[string]Model {
	m := map[string]Model{}
	for _, s := range p.sources {
		m[s.name] = s.m
	}
	m[p.cfg.FallbackModel()] = p.fallback
	return m
}

// Manifest returns the bundle's manifest (nil for a pipeline assembled during training).
func (p *Pipeline) Manifest() *Manifest { return p.manifest }

// Config returns the pipeline file the stages were assembled from.
func (p *Pipeline) Config() *Config { return p.cfg }

// FeatureNames are the columns of the feature matrix (nil without a feature stage).
func (p *Pipeline) FeatureNames() []string { return p.wide }

// SourceNames are the names of the retrieve stage's sources, in the file's order.
func (p *Pipeline) SourceNames() []string {
	names := make([]string, len(p.sources))
	for i, s := range p.sources {
		names[i] = s.name
	}
	return names
}

// NumItems is the size of the models' trained catalog, dense item IDs [0, NumItems). Items that
// appeared later are ignored in histories; they are recommended only once added to the living
// catalog (UpsertItems), by the models that embed items from their attributes.
func (p *Pipeline) NumItems() int { return p.numItems }
