package ann

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// DefaultExactThreshold is the catalogue size below which [Build] uses exact
// search. Measured here on 20,000 clustered 64-d vectors (one core): exact
// top-100 costs 0.21–0.22 ms per query, far inside a serving budget, with
// recall 1 and no build. HNSW is 2–6x faster at that size (depending on how
// clustered the data is) at recall 0.99+, but needs a build of seconds and
// its recall must be monitored; exact cost grows linearly with the catalogue
// while HNSW's grows roughly logarithmically, so above this size the gap
// widens quickly (~50x at 1M; docs/benchmarks.md).
const DefaultExactThreshold = 20000

// BuildOptions configures [Build]. The zero value selects the defaults.
type BuildOptions struct {
	// ExactThreshold: catalogues with fewer vectors get an Exact index,
	// others an HNSW index. 0 means DefaultExactThreshold; a negative value
	// always builds HNSW.
	ExactThreshold int

	Exact ExactOptions
	HNSW  HNSWOptions

	// RecallK is the k of the recall@k measured after an HNSW build.
	// 0 means 100.
	RecallK int

	// RecallQueries are row-major queries for the recall measurement. When
	// nil, RecallSamples stored vectors are drawn (seeded by HNSW.Seed) and
	// perturbed with Gaussian noise of RecallNoise times their per-dimension
	// RMS, so that queries are near, but not on, the stored points.
	RecallQueries []float32
	RecallSamples int     // 0 means 200
	RecallNoise   float64 // 0 means 0.35

	// TargetRecall, when positive, doubles the HNSW default efSearch (up to
	// MaxEfSearch) until the measured recall reaches it; the report gives the
	// final efSearch and recall.
	TargetRecall float64
	MaxEfSearch  int // 0 means 4096
}

// BuildReport describes what Build built; it is meant for run manifests.
type BuildReport struct {
	Kind           string  `json:"kind"` // "exact" or "hnsw"
	Len            int     `json:"len"`
	Dim            int     `json:"dim"`
	BuildSeconds   float64 `json:"build_seconds"`
	Bytes          int64   `json:"bytes"` // memory held by vectors and graph
	M              int     `json:"m,omitempty"`
	EfConstruction int     `json:"ef_construction,omitempty"`
	EfSearch       int     `json:"ef_search,omitempty"`
	RecallK        int     `json:"recall_k"`
	RecallQueries  int     `json:"recall_queries"` // 0 for exact: recall is 1 by construction
	Recall         float64 `json:"recall"`
	RecallSeconds  float64 `json:"recall_seconds,omitempty"`
}

// Build indexes the row-major matrix vectors (len(vectors) = n*dim), choosing
// exact search below opts.ExactThreshold vectors and HNSW otherwise. After an
// HNSW build it measures recall@k against exact search and reports it. The
// index keeps vectors without copying it.
func Build(vectors []float32, dim int, opts BuildOptions) (Index, BuildReport, error) {
	n, err := checkVectors(vectors, dim)
	if err != nil {
		return nil, BuildReport{}, err
	}
	if opts.ExactThreshold == 0 {
		opts.ExactThreshold = DefaultExactThreshold
	}
	if opts.RecallK <= 0 {
		opts.RecallK = 100
	}
	rep := BuildReport{Len: n, Dim: dim, RecallK: min(opts.RecallK, n), Recall: 1}

	start := time.Now()
	exact, err := NewExact(vectors, dim, opts.Exact)
	if err != nil {
		return nil, rep, err
	}
	if n < opts.ExactThreshold {
		rep.Kind = "exact"
		rep.BuildSeconds = time.Since(start).Seconds()
		rep.Bytes = 4 * int64(len(vectors))
		return exact, rep, nil
	}

	h, err := NewHNSW(vectors, dim, opts.HNSW)
	if err != nil {
		return nil, rep, err
	}
	rep.Kind = "hnsw"
	rep.BuildSeconds = time.Since(start).Seconds()

	start = time.Now()
	qs := opts.RecallQueries
	if qs == nil {
		qs = noisySamples(vectors, dim, opts.RecallSamples, opts.RecallNoise, opts.HNSW.Seed)
	}
	nq, err := checkBatch(qs, dim)
	if err != nil {
		return nil, rep, fmt.Errorf("ann: recall queries: %w", err)
	}
	truth, err := exact.SearchBatch(qs, rep.RecallK, nil, nil)
	if err != nil {
		return nil, rep, err
	}
	maxEf := opts.MaxEfSearch
	if maxEf <= 0 {
		maxEf = 4096
	}
	var got [][]Result
	for {
		if got, err = h.SearchBatch(qs, rep.RecallK, nil, got); err != nil {
			return nil, rep, err
		}
		rep.Recall = meanRecall(got, truth)
		ef := h.EfSearch()
		if opts.TargetRecall <= 0 || rep.Recall >= opts.TargetRecall || ef >= maxEf || ef >= n {
			break
		}
		h.SetEfSearch(min(2*ef, maxEf))
	}
	st := h.Stats()
	rep.RecallQueries = nq
	rep.RecallSeconds = time.Since(start).Seconds()
	rep.Bytes, rep.M, rep.EfConstruction, rep.EfSearch = st.Bytes, st.M, st.EfConstruction, st.EfSearch
	return h, rep, nil
}

// noisySamples draws ns stored vectors and adds isotropic Gaussian noise of
// rel times each vector's per-dimension RMS.
func noisySamples(vectors []float32, dim, ns int, rel float64, seed uint64) []float32 {
	if ns <= 0 {
		ns = 200
	}
	if rel <= 0 {
		rel = 0.35
	}
	n := len(vectors) / dim
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	qs := make([]float32, ns*dim)
	for i := range ns {
		v := vectors[rng.IntN(n)*dim:][:dim]
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		sigma := rel * math.Sqrt(ss/float64(dim))
		for j, x := range v {
			qs[i*dim+j] = x + float32(sigma*rng.NormFloat64())
		}
	}
	return qs
}

// MeasureRecall returns the mean recall@k of approx against truth (normally
// an [Exact] index over the same vectors) on the row-major queries qs.
func MeasureRecall(approx, truth Index, qs []float32, k int) (float64, error) {
	want, err := truth.SearchBatch(qs, k, nil, nil)
	if err != nil {
		return 0, err
	}
	got, err := approx.SearchBatch(qs, k, nil, nil)
	if err != nil {
		return 0, err
	}
	return meanRecall(got, want), nil
}

// meanRecall averages Recall over queries.
func meanRecall(got, want [][]Result) float64 {
	if len(want) == 0 {
		return 1
	}
	var sum float64
	for i := range want {
		sum += Recall(got[i], want[i])
	}
	return sum / float64(len(want))
}

// Recall returns the fraction of the exact top-k want matched by got. A
// result counts as a match when its score is at least the k-th exact score:
// with tied scores any of the tied IDs is a correct answer. got's scores
// must be true inner products, as every Index returns.
func Recall(got, want []Result) float64 {
	if len(want) == 0 {
		return 1
	}
	kth := want[len(want)-1].Score
	hits := 0
	for _, r := range got[:min(len(got), len(want))] {
		if r.Score >= kth {
			hits++
		}
	}
	return float64(hits) / float64(len(want))
}
