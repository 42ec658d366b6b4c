package als

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

// uniformMatrix returns a rows×cols count matrix with exactly nnz entries spread evenly over the
// rows at uniformly random columns, every count 1: the shape of implicit's speed anchor.
func uniformMatrix(seed uint64, rows, cols, nnz int) *dataset.Matrix {
	rng := rand.New(rand.NewPCG(seed, 6))
	m := &dataset.Matrix{Rows: rows, Cols: cols, Indptr: make([]int, rows+1),
		Indices: make([]int32, 0, nnz), Values: make([]float32, 0, nnz)}
	perm := make([]int32, cols)
	for i := range perm {
		perm[i] = int32(i)
	}
	for u := range rows {
		n := nnz / rows
		if u < nnz%rows {
			n++
		}
		for j := range n { // partial Fisher–Yates: n distinct columns
			k := j + rng.IntN(cols-j)
			perm[j], perm[k] = perm[k], perm[j]
		}
		row := slices.Clone(perm[:n])
		slices.Sort(row)
		m.Indices = append(m.Indices, row...)
		for range n {
			m.Values = append(m.Values, 1)
		}
		m.Indptr[u+1] = len(m.Indices)
	}
	return m
}

// BenchmarkIALS measures training time per iteration with the objective off (issue 12's figure):
// the item sweep and the user sweep of TrainIALSMatrix, at 64 factors and 2 workers on a random
// 6,000 × 3,700 matrix with 1,000,000 nonzeros. Training also evaluates the objective every
// iteration for TrainStats.Loss; BenchmarkIALSObjective measures that alone. Run with
//
//	go test -run XXX -bench '^BenchmarkIALS$' -benchtime 5x -count 3 ./candidates/als/
func BenchmarkIALS(b *testing.B) {
	r := uniformMatrix(1, 6000, 3700, 1_000_000)
	ctx := context.Background()
	for _, solver := range []string{SolverCG, SolverCholesky} {
		b.Run("solver="+solver, func(b *testing.B) {
			p := DefaultIALSParams()
			p.Solver, p.Alpha, p.Reg, p.Workers = solver, 1, 0.01, 2
			users, items := initialFactors(p.Seed, r.Rows, r.Cols, p.Factors)
			t := newIALSTrainer(p, r, users, items)
			var stats TrainStats
			cpu := cpuSeconds()
			for range b.N {
				start := time.Now()
				if err := t.sweep(ctx, "item", t.rt, t.users, t.items, t.itemReg); err != nil {
					b.Fatal(err)
				}
				if err := t.sweep(ctx, "user", t.r, t.items, t.users, t.userReg); err != nil {
					b.Fatal(err)
				}
				stats.Seconds = append(stats.Seconds, time.Since(start).Seconds())
			}
			reportIterations(b, stats, cpuSeconds()-cpu)
		})
	}
}

// BenchmarkIALSObjective isolates the per-iteration objective included in BenchmarkIALS.
func BenchmarkIALSObjective(b *testing.B) {
	r := uniformMatrix(1, 6000, 3700, 1_000_000)
	p := DefaultIALSParams()
	p.Alpha, p.Reg, p.Iterations = 1, 0.01, 1
	m, _, err := TrainIALSMatrix(context.Background(), r, p, quiet)
	if err != nil {
		b.Fatal(err)
	}
	t := newIALSTrainer(p, r, m.users, m.items)
	b.ResetTimer()
	for b.Loop() {
		if _, err := objective(context.Background(), r, m.k, m.users, m.items, m.gram, t.userReg, t.itemReg, p.Alpha, t.solvers, t.rowLoss); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkALS measures explicit-ALS training per iteration on the same matrix.
func BenchmarkALS(b *testing.B) {
	r := uniformMatrix(1, 6000, 3700, 1_000_000)
	p := DefaultALSParams()
	p.Factors, p.Iterations = 64, b.N
	cpu := cpuSeconds()
	_, stats, err := TrainALSMatrix(context.Background(), r, p, quiet)
	if err != nil {
		b.Fatal(err)
	}
	reportIterations(b, stats, cpuSeconds()-cpu)
}

// reportIterations reports wall seconds per iteration and the process's CPU seconds per
// iteration (including any setup after cpu was read): on a shared machine wall time varies with the load, while
// CPU/iteration ÷ cores is what an idle machine would take.
func reportIterations(b *testing.B, stats TrainStats, cpu float64) {
	var sum float64
	for _, s := range stats.Seconds {
		sum += s
	}
	b.ReportMetric(sum/float64(len(stats.Seconds)), "s/iter")
	b.ReportMetric(cpu/float64(len(stats.Seconds)), "cpu-s/iter")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkServe measures one request on a 10,000-item catalog at 64 factors: the fold-in alone,
// and fold-in + scoring every item + top-500 selection (Recommend). A request runs on one
// goroutine, so cpu-µs/op is its latency on an otherwise idle core.
func BenchmarkServe(b *testing.B) {
	const numItems, k = 10_000, 64
	rng := newRNG(1)
	p := DefaultIALSParams()
	m := newIALSModel(p, 0, numItems, nil, initFactors(rng, numItems, k))
	ctx := context.Background()
	for _, hist := range []int{10, 50, 200} {
		h := make([]int32, hist)
		for j := range h {
			h[j] = int32(rng.IntN(numItems))
		}
		q := candidates.Query{User: -1, History: h}
		seen := make(map[int32]bool, hist)
		for _, it := range h {
			seen[it] = true
		}
		skip := func(it int32) bool { return seen[it] }
		b.Run(fmt.Sprintf("foldin/history=%d", hist), func(b *testing.B) {
			b.ReportAllocs()
			vec := make([]float32, 0, k)
			cpu := cpuSeconds()
			for b.Loop() {
				vec, _ = m.FoldIn(h, vec)
			}
			b.ReportMetric((cpuSeconds()-cpu)*1e6/float64(b.N), "cpu-µs/op")
		})
		b.Run(fmt.Sprintf("recommend500/history=%d", hist), func(b *testing.B) {
			b.ReportAllocs()
			dst := make([]candidates.Candidate, 0, 500)
			cpu := cpuSeconds()
			for b.Loop() {
				dst, _ = m.Recommend(ctx, q, 500, skip, dst)
			}
			b.ReportMetric((cpuSeconds()-cpu)*1e6/float64(b.N), "cpu-µs/op")
		})
	}
}
