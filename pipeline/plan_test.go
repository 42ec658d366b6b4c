package pipeline

import (
	"testing"
	"time"
)

func TestPlanEstimatesTimeLeft(t *testing.T) {
	p := newPlan()
	p.add(unitTrial, 4)
	p.add(unitStack, 2)
	p.add(unitRefit, 1)
	if got := p.summary(); got != "4 grid trials, 2 stack trials, 1 refits" {
		t.Fatalf("summary %q", got)
	}
	steps := []struct {
		kind       string
		took       time.Duration
		prog, left string
	}{
		// 3 trials left at 10 s, 2 stacks and 1 refit at the mean of all (10 s): 60 s.
		{unitTrial, 10 * time.Second, "1/4", "1 min"},
		// Trials now average 20 s: 2×20 + 3×20 = 100 s.
		{unitTrial, 30 * time.Second, "2/4", "2 min"},
		{unitTrial, 20 * time.Second, "3/4", "1 min"}, // 20 + 3×20 = 80 s
		{unitTrial, 20 * time.Second, "4/4", "1 min"}, // 3 × 20 = 60 s
		{unitStack, 50 * time.Second, "1/2", "1 min"}, // 50 + 1 × 26 s (mean of all 130/5) = 76 s
		{unitStack, 50 * time.Second, "2/2", "30s"},   // 1 × 30 s (180 s / 6)
		{unitRefit, 5 * time.Second, "1/1", "0s"},
	}
	for i, s := range steps {
		prog, left := p.finish(s.kind, s.took)
		if prog != s.prog || left != s.left {
			t.Fatalf("step %d: %s, %s; want %s, %s", i, prog, left, s.prog, s.left)
		}
	}
	var none *plan
	if prog, left := none.finish(unitTrial, time.Second); prog != "" || left != "" {
		t.Fatal("a nil plan reported progress")
	}
}
