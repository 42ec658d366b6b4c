// Package usage reads what the process has used so far — CPU time and peak resident set size from
// getrusage, the live Go heap from runtime/metrics — so that a run can report what each of its
// stages cost.
package usage

import (
	"fmt"
	"runtime/metrics"
	"time"
)

// Sample is the process's use at one instant.
type Sample struct {
	Wall    time.Time
	CPU     time.Duration // user + system, all threads, since the process started (0 where unknown)
	PeakRSS int64         // bytes, the most the process has held resident so far (0 where unknown)
	Heap    int64         // bytes of live and not yet swept Go heap objects
}

// Now samples the process.
func Now() Sample {
	s := Sample{Wall: time.Now()}
	s.CPU, s.PeakRSS = rusage()
	m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(m)
	if m[0].Value.Kind() == metrics.KindUint64 {
		s.Heap = int64(m[0].Value.Uint64())
	}
	return s
}

// Cost is what the process used between two samples.
type Cost struct {
	Wall, CPU time.Duration
	PeakRSS   int64 // at the end: a peak so far, so the stage that raised it is the first to show it
	Heap      int64 // at the end
}

// Since is the cost from s to now.
func Since(s Sample) Cost {
	return Between(s, Now())
}

// Between is the cost from a to b.
func Between(a, b Sample) Cost {
	return Cost{Wall: b.Wall.Sub(a.Wall), CPU: b.CPU - a.CPU, PeakRSS: b.PeakRSS, Heap: b.Heap}
}

// MB is bytes in mebibytes.
func MB(b int64) float64 { return float64(b) / (1 << 20) }

// Attrs are c's log/slog attributes: wall_s, cpu_s and peak_rss_mb.
func (c Cost) Attrs() []any {
	return []any{"wall_s", fmt.Sprintf("%.2f", c.Wall.Seconds()), "cpu_s", fmt.Sprintf("%.2f", c.CPU.Seconds()), "peak_rss_mb", fmt.Sprintf("%.0f", MB(c.PeakRSS))}
}
