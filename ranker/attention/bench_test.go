package attention

import (
	"context"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
)

// benchModel is an untrained model of the serving benchmark's shape: d = 64, 4 dense features,
// 10,000 items; the request has 500 candidates and a 50-item history.
func benchModel(tb testing.TB, attention string) (*Model, []int32, []int32, []float32) {
	tb.Helper()
	p := DefaultParams()
	p.Attention = attention
	rng := rand.New(rand.NewPCG(1, 2))
	const numItems, nf = 10000, 4
	nt := newNet(p, numItems, nf, rng)
	m := newModel(p, []string{"f0", "f1", "f2", "f3"}, nt)
	hist := make([]int32, 50)
	for i := range hist {
		hist[i] = int32(rng.IntN(numItems))
	}
	cands := make([]int32, 500)
	for i := range cands {
		cands[i] = int32(rng.IntN(numItems))
	}
	dense := make([]float32, len(cands)*nf)
	for i := range dense {
		dense[i] = float32(rng.NormFloat64())
	}
	return m, hist, cands, dense
}

func benchmarkScore(b *testing.B, attention string) {
	m, hist, cands, dense := benchModel(b, attention)
	dst := make([]float32, len(cands))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Score(ctx, hist, cands, dense, dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/request")
}

// BenchmarkScore500x50 scores 500 candidates against a 50-item history with d = 64 (run with
// -cpu 1 for the one-core figure).
func BenchmarkScore500x50(b *testing.B)     { benchmarkScore(b, AttentionDIN) }
func BenchmarkScore500x50Dot(b *testing.B)  { benchmarkScore(b, AttentionDot) }
func BenchmarkScore500x50Mean(b *testing.B) { benchmarkScore(b, AttentionMean) }

// BenchmarkScoreLatency measures the p50/p99 latency of Score on one core (GOMAXPROCS 1) for the
// benchmark shape, as wall time and as the thread's CPU time (on a shared machine the wall p99 is
// mostly time spent descheduled), reported as metrics of the run:
//
//	go test -run '^$' -bench ScoreLatency ./ranker/attention/
//
// With CASCADE_BENCH=1 it also enforces a CPU-time p99 ≤ 2 ms for din.
func BenchmarkScoreLatency(b *testing.B) {
	for _, att := range []string{AttentionDIN, AttentionDot, AttentionMean} {
		b.Run(att, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			m, hist, cands, dense := benchModel(b, att)
			dst := make([]float32, len(cands))
			ctx := context.Background()
			for range 50 { // warm up
				if err := m.Score(ctx, hist, cands, dense, dst); err != nil {
					b.Fatal(err)
				}
			}
			var lat, cpu []time.Duration
			for b.Loop() {
				t0, c0 := time.Now(), threadCPU()
				if err := m.Score(ctx, hist, cands, dense, dst); err != nil {
					b.Fatal(err)
				}
				cpu = append(cpu, threadCPU()-c0)
				lat = append(lat, time.Since(t0))
			}
			slices.Sort(lat)
			slices.Sort(cpu)
			q := func(d []time.Duration, f float64) time.Duration { return d[int(f*float64(len(d)-1))] }
			b.ReportMetric(ms(q(lat, 0.5)), "p50-ms")
			b.ReportMetric(ms(q(lat, 0.99)), "p99-ms")
			b.ReportMetric(ms(q(cpu, 0.5)), "cpu-p50-ms")
			b.ReportMetric(ms(q(cpu, 0.99)), "cpu-p99-ms")
			cpu99 := q(cpu, 0.99)
			if cpu99 == 0 { // no thread clock on this platform
				cpu99 = q(lat, 0.99)
			}
			if os.Getenv("CASCADE_BENCH") == "1" && att == AttentionDIN && cpu99 > 2*time.Millisecond {
				b.Errorf("din p99 %.3f ms, want ≤ 2 ms", ms(cpu99))
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
