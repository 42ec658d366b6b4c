package pipeline

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// plan counts the units of work a Train runs (model trainings with their validation replays,
// stack trials, refits) and estimates the time left from the units done so far, per kind: a
// person can plan by "trial 3/12, about 14 min left" where a bare progress bar per loop says
// nothing about the whole run.
type plan struct {
	mu      sync.Mutex
	start   time.Time
	total   map[string]int           // units planned by kind
	done    map[string]int           // units done by kind
	spent   map[string]time.Duration // time spent on the done units by kind
	order   []string
	unknown bool // some units could not be counted up front
}

// Unit kinds.
const (
	unitTrial = "grid trials"
	unitStack = "stack trials"
	unitRefit = "refits"
	unitOther = "other trainings"
)

func newPlan() *plan {
	return &plan{start: time.Now(), total: map[string]int{}, done: map[string]int{}, spent: map[string]time.Duration{}}
}

func (p *plan) add(kind string, n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.total[kind]; !ok {
		p.order = append(p.order, kind)
	}
	p.total[kind] += n
}

// finish records a unit of kind that took d and returns "k/n" of that kind and the estimated time
// left for the whole run: each kind's remaining units at the mean time of its done ones (the
// mean of all done units for a kind not started yet).
func (p *plan) finish(kind string, d time.Duration) (progress, left string) {
	if p == nil {
		return "", ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done[kind]++
	p.spent[kind] += d
	var rest time.Duration
	var all time.Duration
	var allDone int
	for _, k := range p.order {
		all += p.spent[k]
		allDone += p.done[k]
	}
	for _, k := range p.order {
		n := p.total[k] - p.done[k]
		if n <= 0 {
			continue
		}
		per := time.Duration(0)
		switch {
		case p.done[k] > 0:
			per = p.spent[k] / time.Duration(p.done[k])
		case allDone > 0:
			per = all / time.Duration(allDone) // no unit of this kind yet: the mean of all
		}
		rest += time.Duration(n) * per
	}
	return fmt.Sprintf("%d/%d", p.done[kind], max(p.total[kind], p.done[kind])), roundDuration(rest)
}

// summary is the plan line: "plan: 12 grid trials, 6 stack trials, 3 refits".
func (p *plan) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for _, k := range p.order {
		parts = append(parts, fmt.Sprintf("%d %s", p.total[k], k))
	}
	return strings.Join(parts, ", ")
}

func (p *plan) log(log *slog.Logger) {
	log.Info("plan: "+p.summary(), "estimate", "after the first units")
}

func roundDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute).Minutes()))
	default:
		return d.Round(time.Minute).String()
	}
}
