// Package replay owns offline evaluation by the replay-v1 protocol (shared/PROTOCOL.md): logged
// test events are replayed in time order per user through any recommender, whose history grows
// step by step as it would in production, and the metrics, slices, per-stage recall and latency
// are reported as a table and as the protocol's JSON.
package replay

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/progress"
)

// Protocol is the name written into every report.
const Protocol = "replay-v1"

// Recommender answers one replay step: the final ranked list for q, leaving out every item for
// which skip is true, and optionally the candidate lists of the stages that produced it (for
// per-stage recall@N). The recommender owns its policy for histories it cannot personalise
// (replay-v1 §3 asks for the popularity fallback when no history item is in the train catalog):
// replay evaluates what serving would answer, so it decides nothing itself.
type Recommender interface {
	Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (Response, error)
}

// Response is a recommender's answer to one step. Replay reads it before the next call on the same
// goroutine, so a recommender may reuse the slices between calls.
type Response struct {
	Items  []candidates.Candidate
	Stages []Stage
	// Degraded says the recommender could not run its stages and answered with its fallback
	// (counted in Report.DegradedSteps).
	Degraded bool
}

// Stage is the candidate list of one stage or source, best first, and the time it took (0 when
// the recommender does not time its stages).
type Stage struct {
	Name     string
	Items    []candidates.Candidate
	Duration time.Duration
}

// Options configure Run.
type Options struct {
	Dataset string // name written into the report
	// Protocol is the protocol name written into the report: "" is replay-v1 (Protocol); the
	// leave-one-out protocol (ProtocolLOO) replays its own split through the same code.
	Protocol string
	// ItemIDs are the external item IDs by dense ID, for the popularity ranking's tie-break
	// (popularity@10); nil breaks ties by dense ID.
	ItemIDs []string
	// Ks are the cut-offs of hr/ndcg/mrr; Ns those of per-stage recall. Defaults: 10,20,50,100 and
	// 100,200,500 (replay-v1 §4).
	Ks, Ns []int
	// Workers replay users in parallel; 0 means GOMAXPROCS. Results do not depend on it.
	Workers  int
	Progress progress.Options
	// EventTypes names the event types by Event.Type (dataset.Dataset.EventTypes). When set, the
	// report adds a slice "event:NAME" per type over the steps whose target is of that type
	// (e.g. how well purchases are predicted); the main metrics still count every step.
	EventTypes []string
	// Sample, when positive, replays a uniform sample of that many counted steps instead of all
	// of them, drawn with Seed (sample.go), and the report carries 95% intervals (Report.CI).
	Sample int
	Seed   uint64
}

// Source adapts a candidate source to a Recommender: its top n items are both the final list and
// the one stage, named name. The source answers every step itself, histories without a train item
// included (for a non-personal source such as popularity that is replay-v1's fallback); a
// pipeline brings its own fallback policy (pipeline.Pipeline.Replay).
func Source(name string, src candidates.Source, n int) Recommender {
	return &sourceRec{name: name, src: src, n: n}
}

type sourceRec struct {
	name string
	src  candidates.Source
	n    int
}

func (s *sourceRec) Recommend(ctx context.Context, q candidates.Query, skip func(int32) bool) (Response, error) {
	// A fresh list per step: replay keeps only what it needs before the next call.
	items, err := s.src.Recommend(ctx, q, s.n, skip, nil)
	if err != nil {
		return Response{}, err
	}
	return Response{Items: items, Stages: []Stage{{Name: s.name, Items: items}}}, nil
}

// step is one test event's outcome.
type step struct {
	counted, warm bool
	replayed      bool // counted and in the sample (every counted step without one)
	degraded      bool
	rank          int // 1-based rank of the target in the final list, 0 if absent
	top10         []int32
	stageRank     []int // per stage (in first-seen order of names), 0 if absent
	stageNames    []string
	stageTimes    []time.Duration
	stageLens     []int
	latency       time.Duration
}

// Run replays split's test events through rec. events must be the split's source log (train then
// test, in time order); catalog is the train catalog [0, split.TrainItems).
func Run(ctx context.Context, split dataset.Split, rec Recommender, opt Options) (*Report, error) {
	if len(opt.Ks) == 0 {
		opt.Ks = []int{10, 20, 50, 100}
	}
	if len(opt.Ns) == 0 {
		opt.Ns = []int{100, 200, 500}
	}
	workers := kernel.Workers(opt.Workers)
	// Per-user train histories and test steps, in time order.
	hist := map[int32][]dataset.Event{}
	for _, e := range split.Train {
		hist[e.User] = append(hist[e.User], e)
	}
	var users []int32
	tests := map[int32][]int{} // indices into split.Test
	for i, e := range split.Test {
		if _, ok := tests[e.User]; !ok {
			users = append(users, e.User)
		}
		tests[e.User] = append(tests[e.User], i)
	}
	steps := make([]step, len(split.Test))
	if opt.Sample < 0 {
		return nil, fmt.Errorf("replay: sample size must be positive, got %d", opt.Sample)
	}
	var picked []bool // nil: every step
	var info *SampleInfo
	total := len(split.Test)
	if opt.Sample > 0 {
		picked, info = sampleSteps(users, hist, tests, len(split.Test), opt.Sample, opt.Seed)
		total = info.Steps
	}

	started := time.Now()
	rep := progress.New("replay", int64(total), opt.Progress)
	// One user a chunk, taken in order by the workers, each with its own scratch.
	replayers := make([]*replayer, workers)
	err := kernel.For(ctx, len(users), 1, workers, func(w, lo, _ int) error {
		if replayers[w] == nil {
			replayers[w] = newReplayer(split, opt)
		}
		u := users[lo]
		if err := replayers[w].user(ctx, rec, hist[u], tests[u], steps, picked); err != nil {
			return err
		}
		rep.Add(pickedOf(tests[u], picked))
		return nil
	})
	rep.Finish()
	if err != nil {
		return nil, err
	}
	out := summarize(split, steps, opt)
	out.Seconds = time.Since(started).Seconds()
	if out.Seconds > 0 {
		out.StepsPerSecond = float64(total) / out.Seconds
	}
	if info != nil {
		out.Sample = info
		out.CI = intervals(split, steps, opt, out)
	}
	return out, nil
}

// replayer holds one worker's scratch.
type replayer struct {
	split   dataset.Split
	opt     Options
	history []int32
	times   []int64
	values  []float32
	seen    map[int32]struct{}
}

func newReplayer(split dataset.Split, opt Options) *replayer {
	return &replayer{split: split, opt: opt, seen: map[int32]struct{}{}}
}

// user replays one user's test steps; picked, when not nil, names the steps to evaluate (the
// others only grow the history, as they would in a full replay).
func (r *replayer) user(ctx context.Context, rec Recommender, train []dataset.Event, testIdx []int, steps []step, picked []bool) error {
	r.history, r.times, r.values = r.history[:0], r.times[:0], r.values[:0]
	clear(r.seen)
	push := func(e dataset.Event) {
		r.history = append(r.history, e.Item)
		r.times = append(r.times, e.Time)
		r.values = append(r.values, e.Value)
		r.seen[e.Item] = struct{}{}
	}
	for _, e := range train {
		push(e)
	}
	warm := len(train) > 0
	skip := func(id int32) bool { _, ok := r.seen[id]; return ok }
	for _, ti := range testIdx {
		e := r.split.Test[ti]
		st := &steps[ti]
		if len(r.history) > 0 && picked != nil && !picked[ti] {
			st.counted, st.warm = true, warm
		} else if len(r.history) > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			q := candidates.Query{User: e.User, History: r.history, HistoryTimes: r.times, HistoryValues: r.values, Time: e.Time}
			start := time.Now()
			resp, err := rec.Recommend(ctx, q, skip)
			st.latency = time.Since(start)
			if err != nil {
				return fmt.Errorf("replay step (user %d, time %d): %w", e.User, e.Time, err)
			}
			st.counted, st.warm, st.replayed, st.degraded = true, warm, true, resp.Degraded
			st.rank = rankOf(resp.Items, e.Item)
			n := min(10, len(resp.Items))
			st.top10 = make([]int32, n)
			for i := 0; i < n; i++ {
				st.top10[i] = resp.Items[i].Item
			}
			for _, s := range resp.Stages {
				st.stageNames = append(st.stageNames, s.Name)
				st.stageRank = append(st.stageRank, rankOf(s.Items, e.Item))
				st.stageTimes = append(st.stageTimes, s.Duration)
				st.stageLens = append(st.stageLens, len(s.Items))
			}
		}
		push(e)
	}
	return nil
}

func rankOf(items []candidates.Candidate, target int32) int {
	for i, c := range items {
		if c.Item == target {
			return i + 1
		}
	}
	return 0
}

// Report is replay-v1's output (PROTOCOL.md §6); its JSON keys are the protocol's.
type Report struct {
	Protocol       string `json:"protocol"`
	Dataset        string `json:"dataset"`
	TrainEvents    int    `json:"train_events"`
	TestSteps      int    `json:"test_steps"`
	NoHistorySteps int    `json:"no_history_steps"`
	Users          int    `json:"users"`
	WarmUsers      int    `json:"warm_users"`
	WarmSteps      int    `json:"warm_steps"`
	ColdSteps      int    `json:"cold_steps"`
	// DegradedSteps counts the steps the recommender answered degraded (its stages failed).
	DegradedSteps int                           `json:"degraded_steps,omitempty"`
	Metrics       map[string]float64            `json:"metrics"`
	Slices        map[string]map[string]float64 `json:"slices"`
	Stages        map[string]map[string]float64 `json:"stages"`
	LatencyMS     map[string]float64            `json:"latency_ms"`
	// StageLatencyMS has per-stage latency percentiles where the recommender times its stages.
	StageLatencyMS map[string]map[string]float64 `json:"stage_latency_ms,omitempty"`
	// StageOrder lists the stage names in the order the recommender reported them.
	StageOrder []string `json:"stage_order,omitempty"`
	// StageMaxItems is the longest list each stage returned: a stage whose lists never reach N
	// has no recall@N of its own (the value repeats its recall at its length).
	StageMaxItems map[string]int `json:"stage_max_items,omitempty"`
	// Seconds is the replay's wall time; StepsPerSecond its throughput over all test steps (over
	// the sampled steps when sampled).
	Seconds        float64 `json:"seconds"`
	StepsPerSecond float64 `json:"steps_per_second"`
	// Sample and CI are set by a sampled replay (Options.Sample): the counts above stay the whole
	// log's, every metric is the sample's estimate, and CI holds its 95% interval.
	Sample *SampleInfo `json:"sample,omitempty"`
	CI     *Intervals  `json:"ci,omitempty"`
}

// TypeSlice names the report slice of the steps whose target is of event type name.
func TypeSlice(name string) string { return "event:" + name }

func summarize(split dataset.Split, steps []step, opt Options) *Report {
	rep := &Report{
		Protocol:    cmp.Or(opt.Protocol, Protocol),
		Dataset:     opt.Dataset,
		TrainEvents: len(split.Train),
		TestSteps:   len(steps),
		Metrics:     map[string]float64{},
		Slices:      map[string]map[string]float64{"warm": {}, "cold": {}},
		Stages:      map[string]map[string]float64{},
		LatencyMS:   map[string]float64{},
	}
	pct := popularityPercentiles(split, opt.ItemIDs)
	users, warmUsers := map[int32]bool{}, map[int32]bool{}
	covered := map[int32]bool{}
	var all, warm, cold acc
	all.init(opt.Ks)
	warm.init(opt.Ks)
	cold.init(opt.Ks)
	byType := make([]acc, len(opt.EventTypes))
	for k := range byType {
		byType[k].init(opt.Ks)
	}
	stageHits := map[string][]float64{}
	stageLat := map[string][]float64{}
	var lat []float64
	popSum := 0.0
	for i := range steps {
		st := &steps[i]
		if !st.counted {
			rep.NoHistorySteps++
			continue
		}
		u := split.Test[i].User
		users[u] = true
		if st.warm {
			rep.WarmSteps++
			warmUsers[u] = true
		} else {
			rep.ColdSteps++
		}
		if !st.replayed {
			continue // outside the sample: counted, not evaluated
		}
		if st.degraded {
			rep.DegradedSteps++
		}
		all.add(st.rank)
		if st.warm {
			warm.add(st.rank)
		} else {
			cold.add(st.rank)
		}
		if t := int(split.Test[i].Type); t < len(byType) {
			byType[t].add(st.rank)
		}
		for _, it := range st.top10 {
			covered[it] = true
		}
		popSum += topPopularity(st.top10, pct)
		for j, name := range st.stageNames {
			h, ok := stageHits[name]
			if !ok {
				h = make([]float64, len(opt.Ns))
				stageHits[name] = h
				rep.StageOrder = append(rep.StageOrder, name)
			}
			if rep.StageMaxItems == nil {
				rep.StageMaxItems = map[string]int{}
			}
			rep.StageMaxItems[name] = max(rep.StageMaxItems[name], st.stageLens[j])
			for k, n := range opt.Ns {
				if r := st.stageRank[j]; r > 0 && r <= n {
					h[k]++
				}
			}
			if d := st.stageTimes[j]; d > 0 {
				stageLat[name] = append(stageLat[name], ms(d))
			}
		}
		lat = append(lat, ms(st.latency))
	}
	rep.Users, rep.WarmUsers = len(users), len(warmUsers)
	counted := float64(all.n)
	all.write(rep.Metrics)
	warm.write(rep.Slices["warm"])
	cold.write(rep.Slices["cold"])
	for k, a := range byType {
		if a.n > 0 {
			m := map[string]float64{}
			a.write(m)
			rep.Slices[TypeSlice(opt.EventTypes[k])] = m
		}
	}
	if split.TrainItems > 0 {
		rep.Metrics["coverage@10"] = float64(len(covered)) / float64(split.TrainItems)
	}
	if counted > 0 {
		rep.Metrics["popularity@10"] = popSum / counted
	}
	for name, h := range stageHits {
		m := map[string]float64{}
		for k, n := range opt.Ns {
			m[recallKey(n)] = h[k] / counted
		}
		rep.Stages[name] = m
	}
	for name, l := range stageLat {
		sort.Float64s(l)
		if rep.StageLatencyMS == nil {
			rep.StageLatencyMS = map[string]map[string]float64{}
		}
		m := map[string]float64{}
		for _, q := range latencyQuantiles {
			m[percentileKey(q)] = quantile(l, q)
		}
		rep.StageLatencyMS[name] = m
	}
	sort.Float64s(lat)
	for _, q := range latencyQuantiles {
		rep.LatencyMS[percentileKey(q)] = quantile(lat, q)
	}
	return rep
}

// latencyQuantiles are the reported latency percentiles.
var latencyQuantiles = []float64{0.5, 0.95, 0.99}

func percentileKey(q float64) string { return fmt.Sprintf("p%d", int(math.Round(q*100))) }

func metricKey(name string, k int) string { return fmt.Sprintf("%s@%d", name, k) }

func recallKey(n int) string { return metricKey("recall", n) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// acc accumulates hr/ndcg/mrr at every cut-off over steps. Sums run in step order, so the
// result does not depend on the number of workers.
type acc struct {
	ks            []int
	n             int
	hr, ndcg, mrr []float64
}

func (a *acc) init(ks []int) {
	a.ks = ks
	a.hr, a.ndcg, a.mrr = make([]float64, len(ks)), make([]float64, len(ks)), make([]float64, len(ks))
}

func (a *acc) add(rank int) {
	a.n++
	if rank <= 0 {
		return
	}
	for i, k := range a.ks {
		hr, ndcg, mrr := gains(rank, k)
		a.hr[i] += hr
		a.ndcg[i] += ndcg
		a.mrr[i] += mrr
	}
}

// gains are one step's hr@k, ndcg@k and mrr@k for the target at 1-based rank (0: absent),
// replay-v1 §4.
func gains(rank, k int) (hr, ndcg, mrr float64) {
	if rank <= 0 || rank > k {
		return 0, 0, 0
	}
	return 1, 1 / math.Log2(float64(rank)+1), 1 / float64(rank)
}

// topPopularity is one step's popularity@10 term: the mean percentile of its top-10 list (0 for
// an empty list).
func topPopularity(top10 []int32, pct []float64) float64 {
	if len(top10) == 0 {
		return 0
	}
	p := 0.0
	for _, it := range top10 {
		if int(it) < len(pct) {
			p += pct[it]
		}
	}
	return p / float64(len(top10))
}

func (a *acc) write(m map[string]float64) {
	if a.n == 0 {
		return
	}
	n := float64(a.n)
	for i, k := range a.ks {
		m[metricKey("hr", k)] = a.hr[i] / n
		m[metricKey("ndcg", k)] = a.ndcg[i] / n
		m[metricKey("mrr", k)] = a.mrr[i] / n
	}
}

// popularityPercentiles gives each train-catalog item its train-popularity percentile: its
// position in the popularity ranking (count descending, then external ID ascending as strings,
// replay-v1 §5) mapped to [0, 1], 1 for the most popular item. This is the reference's definition:
// tied items get distinct percentiles by their ID order.
func popularityPercentiles(split dataset.Split, ids []string) []float64 {
	n := split.TrainItems
	counts := make([]int, n)
	for _, e := range split.Train {
		counts[e.Item]++
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		x, y := order[a], order[b]
		if counts[x] != counts[y] {
			return counts[x] > counts[y]
		}
		if ids != nil {
			return ids[x] < ids[y]
		}
		return x < y
	})
	pct := make([]float64, n)
	for pos, it := range order {
		if n == 1 {
			pct[it] = 1
			break
		}
		pct[it] = 1 - float64(pos)/float64(n-1)
	}
	return pct
}

// quantile is the linear-interpolation quantile of sorted xs.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	pos := q * float64(len(xs)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(xs)-1)
	return xs[lo] + (pos-float64(lo))*(xs[hi]-xs[lo])
}
