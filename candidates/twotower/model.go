package twotower

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/candidates/ann"
	"github.com/cascade-rec/cascade/nn"
)

// Model is a trained two-tower model. It is a candidates.Source (query tower, then a search of
// the item-embedding index) and a candidates.Scorer, and is safe for concurrent use.
//
// The score of item i for query q is u_q·v_i/τ + PriorBeta·log P(i), with u and v the
// L2-normalised tower outputs and P the add-one smoothed train frequency. The index holds
// [v_i, β·log P(i)] and is searched with [u_q/τ, 1], so that its inner product is exactly that
// score and an exact index stays exact.
type Model struct {
	p                  Params
	net                *net
	numUsers, numItems int
	items              []float32 // numItems × dim, normalised
	logPrior           []float32 // numItems
	index              ann.Index
	indexDim           int
	indexReport        ann.BuildReport
	pool               sync.Pool

	// Items added after training (live.go): feats are the training attributes (UseAttributes),
	// live the published snapshot, liveMu serialises writers.
	feats     *itemFeatures
	live      atomic.Pointer[liveItems]
	liveMu    sync.Mutex
	coldPrior float32

	// queries, when set, reuses users' query embeddings between requests (refresh.go).
	queries atomic.Pointer[queryCache]
}

var (
	_ candidates.Source = (*Model)(nil)
	_ candidates.Scorer = (*Model)(nil)
)

// scratch is one request's working memory, pooled so that a steady stream of requests does not
// allocate.
type scratch struct {
	w    ws
	u    []float32
	qv   []float32
	res  []ann.Result
	seen []uint32 // seen[item] == gen: in the request's history
	gen  uint32
	// leftLive holds the request's history items outside the trained catalog, live the snapshot
	// of live items the request translates index rows with.
	leftLive []int32
	live     *liveItems
	skip     func(int32) bool // the caller's filter for the current request
	// filter is built once per scratch: a fresh closure per request would allocate.
	filter func(int32) bool
}

func newModel(n *net, p Params, numUsers int, counts []float64, items []float32) (*Model, error) {
	m := &Model{p: p, net: n, numUsers: numUsers, numItems: n.a.numItems, items: items, logPrior: logPrior(counts)}
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}

// init sets up the request pool and builds the default index.
func (m *Model) init() error {
	m.indexDim = m.p.Dim
	if m.p.PriorBeta != 0 {
		m.indexDim++
	}
	m.pool.New = func() any { return m.newScratch() }
	m.coldPrior = minPrior(m.logPrior)
	_, err := m.BuildIndex(ann.BuildOptions{})
	return err
}

// BuildIndex (re)builds the retrieval index over the item embeddings with opts and returns the
// build report; Train and Load build one with the default options. It must not run concurrently
// with requests, and it drops the items added by SetLiveItems.
func (m *Model) BuildIndex(opts ann.BuildOptions) (ann.BuildReport, error) {
	d := m.p.Dim
	vecs := m.items
	if m.indexDim > d {
		vecs = make([]float32, m.numItems*(d+1))
		for i := 0; i < m.numItems; i++ {
			copy(vecs[i*(d+1):], m.items[i*d:(i+1)*d])
			vecs[i*(d+1)+d] = float32(m.p.PriorBeta) * m.logPrior[i]
		}
	}
	idx, rep, err := ann.Build(vecs, m.indexDim, opts)
	if err != nil {
		return rep, fmt.Errorf("twotower: build index: %w", err)
	}
	m.index, m.indexReport = idx, rep
	m.live.Store(nil)
	return rep, nil
}

func (m *Model) newScratch() *scratch {
	s := &scratch{
		u:    make([]float32, m.p.Dim),
		qv:   make([]float32, m.indexDim),
		seen: make([]uint32, m.numItems),
	}
	// The index holds rows: a trained item's row is its ID, a live item's is translated.
	s.filter = func(row int32) bool {
		id := row
		if int(row) >= m.numItems {
			if id = s.live.item(row, m.numItems); id < 0 || slices.Contains(s.leftLive, id) {
				return true
			}
		} else if s.seen[id] == s.gen {
			return true
		}
		return s.skip != nil && s.skip(id)
	}
	return s
}

// WithPriorBeta returns a model that shares m's networks and embeddings but scores with
// prior_beta = beta (the serving-time popularity prior), with its own index; m is unchanged.
// It lets β be tuned on validation without retraining.
func (m *Model) WithPriorBeta(beta float64) (*Model, error) {
	if math.IsNaN(beta) || math.IsInf(beta, 0) {
		return nil, fmt.Errorf("twotower: prior_beta = %v: must be finite", beta)
	}
	p := m.p
	p.PriorBeta = beta
	c := &Model{p: p, net: m.net, numUsers: m.numUsers, numItems: m.numItems, items: m.items, logPrior: m.logPrior}
	if err := c.init(); err != nil {
		return nil, err
	}
	return c, nil
}

// Params returns the model's parameters.
func (m *Model) Params() Params { return m.p }

// NumItems is the catalog size: the model knows items [0, NumItems).
func (m *Model) NumItems() int { return m.numItems }

// Dim is the embedding size.
func (m *Model) Dim() int { return m.p.Dim }

// IndexReport describes the retrieval index (kind, recall of an HNSW build).
func (m *Model) IndexReport() ann.BuildReport { return m.indexReport }

// ItemEmbeddings returns the normalised item embeddings, NumItems × Dim row-major. The slice is
// the model's own and must not be modified.
func (m *Model) ItemEmbeddings() []float32 { return m.items }

// QueryEmbedding appends the normalised query embedding of q (Dim values) to dst[:0].
func (m *Model) QueryEmbedding(q candidates.Query, dst []float32) []float32 {
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	m.embed(s, q)
	return append(dst[:0], s.u...)
}

// embed runs the query tower on q into s.u, or copies the user's cached embedding when
// SetQueryRefresh allows it.
func (m *Model) embed(s *scratch, q candidates.Query) {
	c := m.queries.Load()
	if c != nil && c.get(q.User, q.Time, s.u) {
		return
	}
	s.w.resetQueries()
	s.w.addQuery(&m.net.a, q.History, q.User, q.Time)
	m.net.queryForward(&s.w, s.u)
	if c != nil {
		c.put(q.User, q.Time, s.u)
	}
}

// Recommend returns the n best items for q, best first, leaving out q.History and the items for
// which skip returns true.
func (m *Model) Recommend(ctx context.Context, q candidates.Query, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	return m.search(ctx, q.History, n, skip, dst[:0], func(s *scratch) {
		m.embed(s, q)
		inv := float32(1 / m.p.Temperature)
		for j, x := range s.u {
			s.qv[j] = x * inv
		}
		if m.indexDim > m.p.Dim {
			s.qv[m.p.Dim] = 1
		}
	})
}

// search finds the n best items for the query vector query writes into s.qv through the
// index, leaving out the items of left (a history, or the item Similar starts from) and those
// skip drops. It holds what Recommend and Similar share: the context check, the empty answer
// for n ≤ 0 and the pooled scratch.
func (m *Model) search(ctx context.Context, left []int32, n int, skip func(int32) bool, dst []candidates.Candidate, query func(s *scratch)) ([]candidates.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return dst, err
	}
	if n <= 0 {
		return dst, nil
	}
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	query(s)
	s.gen++
	if s.gen == 0 { // wrapped: old stamps could match again
		clear(s.seen)
		s.gen = 1
	}
	s.leftLive = s.leftLive[:0]
	for _, it := range left {
		switch {
		case it >= 0 && int(it) < m.numItems:
			s.seen[it] = s.gen
		case it >= 0:
			s.leftLive = append(s.leftLive, it)
		}
	}
	s.skip, s.live = skip, m.live.Load()
	res, err := m.index.SearchFiltered(s.qv, n, s.filter, s.res[:0])
	live := s.live
	s.skip, s.live = nil, nil
	s.res = res
	if err != nil {
		return dst, fmt.Errorf("twotower: search: %w", err)
	}
	for _, r := range res {
		if int(r.ID) >= m.numItems {
			r.ID = live.item(r.ID, m.numItems) // the filter admitted only rows live holds
		}
		dst = append(dst, candidates.Candidate{Item: r.ID, Score: r.Score})
	}
	return dst, nil
}

// Score sets dst[i] to the model's score of items[i] for q (NaN for items neither in the trained
// catalog nor added by SetLiveItems).
func (m *Model) Score(ctx context.Context, q candidates.Query, items []int32, dst []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(dst) < len(items) {
		return fmt.Errorf("twotower: score: dst has %d slots for %d items", len(dst), len(items))
	}
	s := m.pool.Get().(*scratch)
	defer m.pool.Put(s)
	m.embed(s, q)
	inv := float32(1 / m.p.Temperature)
	beta := float32(m.p.PriorBeta)
	live := m.live.Load()
	for i, it := range items {
		v, prior := m.embedding(live, it)
		if v == nil {
			dst[i] = float32(math.NaN())
			continue
		}
		sc := nn.Dot(s.u, v) * inv
		if beta != 0 {
			sc += beta * prior
		}
		dst[i] = sc
	}
	return nil
}

// embedding returns item it's normalised embedding and log prior: trained, or live (nil when the
// model has neither).
func (m *Model) embedding(live *liveItems, it int32) ([]float32, float32) {
	if it >= 0 && int(it) < m.numItems {
		d := m.p.Dim
		return m.items[int(it)*d : int(it+1)*d], m.logPrior[it]
	}
	return live.embedding(it), m.coldPrior
}

// format is the artifact kind and version of the model file.
var format = artifact.Format{Kind: "twotower", Version: 1}

// Save writes the model to path as an artifact of kind "twotower" and returns the file's hex
// SHA-256.
func (m *Model) Save(path string) (string, error) {
	return format.Save(path, func(e *artifact.Encoder) {
		e.JSON(m.p)
		a := &m.net.a
		e.Int(m.numUsers)
		e.Int(a.numItems)
		e.Int(a.numNumeric)
		cards := make([]int32, len(a.catCards))
		for i, c := range a.catCards {
			cards[i] = int32(c)
		}
		e.Int32s(cards)
		nn.WriteParams(e, m.net.ps)
		e.Float32s(m.items)
		e.Float32s(m.logPrior)
	})
}

// Load reads a model written by Save and builds its index with the default options. A damaged,
// foreign or inconsistent file is refused with an error wrapping artifact.ErrCorrupt.
func Load(path string) (*Model, error) {
	m, err := artifact.Load(path, format, decode)
	if err != nil {
		return nil, err
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}

func decode(payload []byte) (*Model, error) {
	d := artifact.NewDecoder(payload)
	var p Params
	if err := json.Unmarshal([]byte(d.String()), &p); err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	numUsers := d.Int()
	a := arch{
		dim: p.Dim, histLen: p.HistoryLen, heads: p.Heads, userBuckets: p.UserBuckets,
		attrDim: p.AttrDim, ctxDim: p.ContextDim, hidden: p.Hidden,
		numItems: d.Int(), numNumeric: d.Int(),
	}
	for _, c := range d.Int32s() {
		a.catCards = append(a.catCards, int(c))
	}
	tensors, err := nn.ReadParams(d)
	if err != nil {
		return nil, err
	}
	items, prior := d.Float32s(), d.Float32s()
	// The decoder's error is sticky and also reports trailing bytes, so check it once, here.
	if err := d.Err(); err != nil {
		return nil, err
	}
	if a.numItems < 1 || a.numItems > math.MaxInt32 || a.numNumeric < 0 || a.numNumeric > 1<<20 {
		return nil, errors.New("bad sizes")
	}
	for _, c := range a.catCards {
		if c < 1 || c > math.MaxInt32 {
			return nil, fmt.Errorf("bad attribute cardinality %d", c)
		}
	}
	if len(items) != a.numItems*a.dim || len(prior) != a.numItems {
		return nil, fmt.Errorf("item tables do not match %d items", a.numItems)
	}
	n := newNet(a, rand.New(rand.NewPCG(0, 0)))
	if err := tensors.Restore(n.ps); err != nil {
		return nil, err
	}
	return &Model{p: p, net: n, numUsers: numUsers, numItems: a.numItems, items: items, logPrior: prior}, nil
}
