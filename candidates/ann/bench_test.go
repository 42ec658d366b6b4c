package ann

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates/ann/internal/vecgen"
)

// Benchmarks. The default set runs in about a minute:
//
//	go test -run XXX -bench . ./candidates/ann/
//
// The 1M-vector and 100K-uniform runs take minutes and are opt-in:
//
//	CASCADE_ANN_BENCH=1 go test -run XXX -bench 'HNSW1M|HNSWUniform100K' -benchtime 1x -timeout 60m ./candidates/ann/
//
// cmd/annbench prints the same measurements as a Markdown table.

// runLatency calls search for successive queries and reports the p50 and
// p99 latency of single calls besides the mean ns/op.
func runLatency(b *testing.B, nq int, search func(qi int)) {
	b.Helper()
	lat := make([]time.Duration, 0, 1<<16)
	i := 0
	for b.Loop() {
		t := time.Now()
		search(i % nq)
		lat = append(lat, time.Since(t))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkExact is exact search on one goroutine (the serving case: one
// query per core) over clustered 64-d unit vectors.
func BenchmarkExact(b *testing.B) {
	const dim, nq = 64, 256
	c := vecgen.NewClusters(100, dim, 0.35, 1)
	qs := c.Sample(nq, 3)
	for _, n := range []int{10_000, 20_000, 100_000} {
		vecs := c.Sample(n, 2)
		for _, k := range []int{100, 500} {
			for _, workers := range []int{1, 2} {
				if workers > 1 && n < 100_000 {
					continue
				}
				x, _ := NewExact(vecs, dim, ExactOptions{Workers: workers, ParallelRows: 1})
				dst := make([]Result, 0, k)
				b.Run(fmt.Sprintf("n=%d/k=%d/workers=%d", n, k, workers), func(b *testing.B) {
					runLatency(b, nq, func(qi int) { dst, _ = x.Search(qs[qi*dim:(qi+1)*dim], k, dst) })
				})
			}
		}
	}
}

// BenchmarkExactBatch is the offline-evaluation case: 256 queries at once.
func BenchmarkExactBatch(b *testing.B) {
	const dim, nq, k = 64, 256, 100
	c := vecgen.NewClusters(100, dim, 0.35, 1)
	qs := c.Sample(nq, 3)
	x, _ := NewExact(c.Sample(100_000, 2), dim, ExactOptions{})
	var dst [][]Result
	for b.Loop() {
		dst, _ = x.SearchBatch(qs, k, nil, dst)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*nq)/1e3, "µs/query")
}

// BenchmarkHNSW20K builds a 20K clustered index (the default exact/HNSW
// threshold) and measures search at several beam widths against exact.
func BenchmarkHNSW20K(b *testing.B) {
	const n, dim, nq, k = 20_000, 64, 500, 100
	c := vecgen.NewClusters(100, dim, 0.35, 1)
	vecs, qs := c.Sample(n, 2), c.Sample(nq, 3)
	h, build := buildHNSW(b, vecs, dim, HNSWOptions{})
	b.Logf("build %v", build)
	x, _ := NewExact(vecs, dim, ExactOptions{Workers: 1})
	searchTable(b, h, x, qs, k, []int{100, 200})
}

// BenchmarkHNSW1M is the headline figure: 1M clustered 64-d vectors
// (1,000 centres, noise 0.35), recall@100 and single-thread queries/s
// against exact search. Opt-in: set CASCADE_ANN_BENCH=1.
func BenchmarkHNSW1M(b *testing.B) {
	heavy(b)
	const n, dim, nq, k = 1_000_000, 64, 1000, 100
	c := vecgen.NewClusters(1000, dim, 0.35, 1)
	vecs, qs := c.Sample(n, 2), c.Sample(nq, 3)
	h, build := buildHNSW(b, vecs, dim, HNSWOptions{Seed: 1})
	b.Logf("build %v (%.0f inserts/s), %d MiB", build, n/build.Seconds(), h.Stats().Bytes>>20)
	x, _ := NewExact(vecs, dim, ExactOptions{Workers: 1})
	searchTable(b, h, x, qs, k, []int{100, 120, 160, 200, 300})
}

// BenchmarkHNSWUniform100K is the hard case: uniform unit vectors, M=16,
// efConstruction=200, one build thread (hnswlib measured here: recall@100
// 0.88 at ef=500, ~760 queries/s). Opt-in: set CASCADE_ANN_BENCH=1.
func BenchmarkHNSWUniform100K(b *testing.B) {
	heavy(b)
	const n, dim, nq, k = 100_000, 64, 500, 100
	vecs, qs := vecgen.Uniform(n, dim, 2), vecgen.Uniform(nq, dim, 3)
	h, build := buildHNSW(b, vecs, dim, HNSWOptions{M: 16, EfConstruction: 200, Workers: 1, Seed: 1})
	b.Logf("build %v", build)
	x, _ := NewExact(vecs, dim, ExactOptions{Workers: 1})
	searchTable(b, h, x, qs, k, []int{200, 500})
}

func heavy(b *testing.B) {
	if os.Getenv("CASCADE_ANN_BENCH") == "" {
		b.Skip("set CASCADE_ANN_BENCH=1 to run")
	}
}

func buildHNSW(b *testing.B, vecs []float32, dim int, opts HNSWOptions) (*HNSW, time.Duration) {
	b.Helper()
	start := time.Now()
	h, err := NewHNSW(vecs, dim, opts)
	if err != nil {
		b.Fatal(err)
	}
	return h, time.Since(start)
}

// searchTable runs one sub-benchmark for exact search and one per ef. One
// op is a pass over all queries (so -benchtime 1x still measures every
// query); it reports recall@k against exact, queries/s on one goroutine and
// per-query latency percentiles.
func searchTable(b *testing.B, h *HNSW, x *Exact, qs []float32, k int, efs []int) {
	dim, nq := h.Dim(), len(qs)/h.Dim()
	truth, err := x.SearchBatch(qs, k, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Result, 0, k)
	b.Run("exact", func(b *testing.B) {
		passes(b, nq, func(qi int) { dst, _ = x.Search(qs[qi*dim:(qi+1)*dim], k, dst) })
	})
	for _, ef := range efs {
		b.Run(fmt.Sprintf("hnsw-ef=%d", ef), func(b *testing.B) {
			var sum float64
			var cnt int
			passes(b, nq, func(qi int) {
				dst, _ = h.SearchEf(qs[qi*dim:(qi+1)*dim], k, ef, nil, dst)
				sum += Recall(dst, truth[qi])
				cnt++
			})
			b.ReportMetric(sum/float64(cnt), "recall")
		})
	}
}

// passes runs search over all nq queries per op and reports queries/s and
// the p50 and p99 latency of single queries.
func passes(b *testing.B, nq int, search func(qi int)) {
	b.Helper()
	var lat []time.Duration
	for b.Loop() {
		for qi := range nq {
			t := time.Now()
			search(qi)
			lat = append(lat, time.Since(t))
		}
	}
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "queries/s")
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}
