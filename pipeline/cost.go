package pipeline

import (
	"log/slog"
	"sync"

	"github.com/cascade-rec/cascade/internal/usage"
)

// StageCost is what one stage of a Train used: wall and CPU time (the whole process, every
// goroutine), the process's peak resident set size when it ended (a peak so far, so the stage
// that raised it is the first to show the new value) and the Go heap it left.
type StageCost struct {
	Stage       string  `json:"stage"`
	WallSeconds float64 `json:"wall_seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	HeapMB      float64 `json:"heap_mb"`
}

// costMeter splits a Train into consecutive stages: each mark closes the stage that began at the
// previous one, so the stages add up to the whole run.
type costMeter struct {
	mu    sync.Mutex
	last  usage.Sample
	costs []StageCost
	log   *slog.Logger
}

func newCostMeter(log *slog.Logger) *costMeter {
	return &costMeter{last: usage.Now(), log: log}
}

// mark ends the current stage, named stage.
func (m *costMeter) mark(stage string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := usage.Now()
	c := usage.Between(m.last, now)
	m.last = now
	sc := StageCost{Stage: stage, WallSeconds: c.Wall.Seconds(), CPUSeconds: c.CPU.Seconds(), PeakRSSMB: usage.MB(c.PeakRSS), HeapMB: usage.MB(c.Heap)}
	m.costs = append(m.costs, sc)
	m.log.Info("stage cost", append([]any{"stage", stage}, c.Attrs()...)...)
}
