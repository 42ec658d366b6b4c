package synth

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestDevTiming(t *testing.T) {
	if os.Getenv("SYNTH_DEV") == "" {
		t.Skip()
	}
	cfg := DefaultConfig()
	if os.Getenv("SYNTH_SMALL") != "" {
		cfg = Small(1)
	}
	start, cpu0 := time.Now(), cpuTime()
	defer func() { t.Logf("cpu %v wall %v", cpuTime()-cpu0, time.Since(start)) }()
	m := newModel(&cfg)
	t.Logf("model %v, clusters %d", time.Since(start), len(m.clusters))
	w := &World{Truth: m.tr}
	var trials, scans int
	_ = trials
	_ = scans
	st, c0 := time.Now(), cpuTime()
	per, err := m.generateEvents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("events cpu %v wall %v trials/event %.2f scans %d refreshes %d", cpuTime()-c0, time.Since(st), float64(m.trials.Load())/float64(cfg.Events), m.scans.Load(), m.refreshes.Load())
	st = time.Now()
	w.Events, w.byUser = mergeEvents(per, cfg.Events)
	t.Logf("merge %v", time.Since(st))
	st, c0 = time.Now(), cpuTime()
	w.Impressions, err = m.generateImpressions(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("impressions cpu %v wall %v", cpuTime()-c0, time.Since(st))
	st = time.Now()
	if err := w.WriteDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Logf("write %v; total %v", time.Since(st), time.Since(start))
}

func TestDevRadii(t *testing.T) {
	if os.Getenv("SYNTH_DEV") == "" {
		t.Skip()
	}
	cfg := DefaultConfig()
	m := newModel(&cfg)
	for c, cl := range m.clusters[:10] {
		t.Logf("cluster %d size %d radius %.3f", c, cl.hi-cl.lo, cl.radius)
	}
	var pn float64
	for _, u := range m.tr.Users[:5] {
		var s float64
		for _, x := range u.TasteStart {
			s += float64(x * x)
		}
		pn += s
		t.Logf("|taste| %.3f", s)
	}
}

func TestDevClusters(t *testing.T) {
	if os.Getenv("SYNTH_DEV") == "" {
		t.Skip()
	}
	for _, f := range []float64{0.125, 0.25, 0.5, 1, 1.5} {
		clusterFactor = f
		cfg := DefaultConfig()
		cfg.Workers = 1
		cfg.Events = 200000
		m := newModel(&cfg)
		st := cpuTime()
		if _, err := m.generateEvents(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Logf("factor %.3f clusters %d: events cpu %v trials/event %.2f scans %d refreshes %d", f, len(m.clusters), cpuTime()-st, float64(m.trials.Load())/float64(cfg.Events), m.scans.Load(), m.refreshes.Load())
	}
}

func TestDevEvents(t *testing.T) {
	if os.Getenv("SYNTH_DEV") == "" {
		t.Skip()
	}
	cfg := DefaultConfig()
	cfg.Workers = 1
	m := newModel(&cfg)
	st := cpuTime()
	if _, err := m.generateEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("clusters %d: events cpu %v trials/event %.2f scans %d refreshes %d", len(m.clusters), cpuTime()-st, float64(m.trials.Load())/float64(cfg.Events), m.scans.Load(), m.refreshes.Load())
}

func TestDevBudget(t *testing.T) {
	if os.Getenv("SYNTH_DEV") == "" {
		t.Skip()
	}
	for _, f := range []float64{0.75, 1} {
		for _, b := range []int{1, 2, 4, 8} {
			clusterFactor, budgetDiv = f, b
			cfg := DefaultConfig()
			cfg.Workers = 1
			m := newModel(&cfg)
			st := cpuTime()
			if _, err := m.generateEvents(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Logf("factor %.2f budget M/%d clusters %d: events cpu %v trials/event %.2f scans %d refreshes %d", f, b, len(m.clusters), cpuTime()-st, float64(m.trials.Load())/float64(cfg.Events), m.scans.Load(), m.refreshes.Load())
		}
	}
}
