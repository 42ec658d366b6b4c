package twotower

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/nn"
)

// benchModel returns an untrained model of the reference architecture over numItems items with
// random normalised item embeddings: serving latency does not depend on training.
func benchModel(b testing.TB, numItems int) *Model {
	p := DefaultParams()
	a := arch{dim: p.Dim, histLen: p.HistoryLen, heads: p.Heads, attrDim: p.AttrDim, ctxDim: p.ContextDim,
		hidden: p.Hidden, numItems: numItems, catCards: []int{20}, numNumeric: 1}
	rng := rand.New(rand.NewPCG(1, 2))
	n := newNet(a, rng)
	items := make([]float32, numItems*p.Dim)
	for i := range items {
		items[i] = float32(rng.NormFloat64())
	}
	norms := make([]float32, numItems)
	nn.L2Normalize(items, numItems, p.Dim, items, norms)
	m, err := newModel(n, p, 100, make([]float64, numItems), items)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// benchQueries are 64 requests of distinct users with 50-item histories over numItems items.
func benchQueries(numItems int) []candidates.Query {
	rng := rand.New(rand.NewPCG(3, 4))
	qs := make([]candidates.Query, 64)
	for i := range qs {
		h := make([]int32, 50)
		for j := range h {
			h[j] = int32(rng.IntN(numItems))
		}
		qs[i] = candidates.Query{User: int32(i), History: h, Time: 1_700_000_000 + int64(i)*977}
	}
	return qs
}

// BenchmarkRecommend: query tower over a 50-item history + top-500 retrieval from 10K items.
// Reports p50/p99 wall-clock latency of single requests on one goroutine, and (on Linux) the
// p50/p99 of the CPU time each request used, which excludes waiting for a CPU on a busy machine.
func BenchmarkRecommend(b *testing.B) { benchRecommend(b, benchModel(b, 10_000)) }

// benchRecommend times m's top-500 answers to benchQueries over its catalog.
func benchRecommend(b *testing.B, m *Model) {
	qs := benchQueries(m.NumItems())
	ctx := context.Background()
	dst := make([]candidates.Candidate, 0, 500)
	benchRequests(b, func(i int) {
		var err error
		if dst, err = m.Recommend(ctx, qs[i%len(qs)], 500, nil, dst); err != nil {
			b.Fatal(err)
		}
	})
}

// benchRequests runs request(i) b.N times on one locked thread and reports the p50/p99 of each
// call's wall-clock latency and (on Linux) CPU time.
func benchRequests(b *testing.B, request func(i int)) {
	lat := make([]time.Duration, 0, b.N)
	cpu := make([]time.Duration, 0, b.N)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c0, ok := threadCPUTime()
		start := time.Now()
		request(i)
		lat = append(lat, time.Since(start))
		if c1, _ := threadCPUTime(); ok {
			cpu = append(cpu, c1-c0)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	if len(cpu) > 0 {
		slices.Sort(cpu)
		b.ReportMetric(float64(cpu[len(cpu)/2].Microseconds()), "cpu-p50-µs")
		b.ReportMetric(float64(cpu[len(cpu)*99/100].Microseconds()), "cpu-p99-µs")
	}
}

// BenchmarkTrainStep measures training throughput of the reference architecture (d = 64, 50
// history items, 2 heads, batch 256, logQ) on an ml-100k-sized synthetic log.
func BenchmarkTrainStep(b *testing.B) {
	w := newWorld(5, 1000, 1700, 40, 60, 140)
	p := DefaultParams()
	p.ValidationFraction = 0
	feats, err := newItemFeatures(w.attrs, w.numItems)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := newTrainer(w.trainData(w.events), w.events, nil, 0, feats, p, quietOptions(0))
	if err != nil {
		b.Fatal(err)
	}
	bs := p.BatchSize
	nb := len(tr.samples) / bs
	tr.trainStep(tr.samples[:bs])
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		k := i % nb
		tr.trainStep(tr.samples[k*bs : (k+1)*bs])
	}
	b.ReportMetric(float64(b.N*bs)/time.Since(start).Seconds(), "ex/s")
}
