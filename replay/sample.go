package replay

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/cascade-rec/cascade/dataset"
	"gonum.org/v1/gonum/stat/distuv"
)

// A sampled replay (Options.Sample) evaluates a simple random sample, without replacement, of the
// counted steps (those with a history) instead of all of them. Every replay-v1 metric except
// coverage is a micro average over counted steps, and the mean of a uniform sample is an unbiased
// estimate of a population mean; a sample by users would weight heavy users' steps unevenly and
// its per-step mean would be a biased ratio. The steps left out still grow their user's history,
// so each sampled step sees exactly the request of the full replay. The same seed draws the same
// steps of the same split, so pipelines compared with one seed are judged on the same steps.

// Level is the coverage of a sampled replay's intervals.
const Level = 0.95

// sampleStream is the PCG stream of the step sample.
const sampleStream = 0x5a3b1e

// SampleInfo describes a sampled replay.
type SampleInfo struct {
	Steps int     `json:"steps"` // counted steps replayed
	Of    int     `json:"of"`    // counted steps in the log (the population)
	Seed  uint64  `json:"seed"`
	Level float64 `json:"level"` // of the intervals in Report.CI
}

// Intervals parallels a Report's figures with their interval [lo, hi] under the sample. For means
// (hr, ndcg, mrr, popularity@10, recall@N, slices) it is the normal interval with the finite
// population correction, clipped to [0, 1]; for latency percentiles the distribution-free interval
// between two order statistics of the sample. coverage@10 is not a mean: its entry is a certain
// bound — the sample's lists cover at least what they cover, and each step left out adds at most
// ten items.
type Intervals struct {
	Metrics        map[string][2]float64            `json:"metrics"`
	Slices         map[string]map[string][2]float64 `json:"slices"`
	Stages         map[string]map[string][2]float64 `json:"stages"`
	LatencyMS      map[string][2]float64            `json:"latency_ms"`
	StageLatencyMS map[string]map[string][2]float64 `json:"stage_latency_ms,omitempty"`
}

// sampleSteps marks n counted steps drawn uniformly without replacement (all of them when n is at
// least their number). users are the test users in first-appearance order, tests their steps in
// time order and hist their train events: a step is counted when its user has an earlier event.
func sampleSteps(users []int32, hist map[int32][]dataset.Event, tests map[int32][]int, numSteps, n int, seed uint64) ([]bool, *SampleInfo) {
	var counted []int
	for _, u := range users {
		for j, ti := range tests[u] {
			if j > 0 || len(hist[u]) > 0 {
				counted = append(counted, ti)
			}
		}
	}
	sort.Ints(counted) // the draw depends on the log, not on map or worker order
	picked := make([]bool, numSteps)
	n = min(n, len(counted))
	rng := rand.New(rand.NewPCG(seed, sampleStream))
	// Partial Fisher–Yates: the first n positions are a uniform sample.
	for i := 0; i < n; i++ {
		j := i + rng.IntN(len(counted)-i)
		counted[i], counted[j] = counted[j], counted[i]
		picked[counted[i]] = true
	}
	return picked, &SampleInfo{Steps: n, Of: len(counted), Seed: seed, Level: Level}
}

// pickedOf counts the steps of idx in the sample (all of them without one).
func pickedOf(idx []int, picked []bool) int {
	if picked == nil {
		return len(idx)
	}
	n := 0
	for _, i := range idx {
		if picked[i] {
			n++
		}
	}
	return n
}

// moments accumulates one per-step quantity over the sample.
type moments struct {
	n       int
	sum, sq float64
}

func (m *moments) add(x float64) {
	m.n++
	m.sum += x
	m.sq += x * x
}

// interval is the normal interval of the mean over a population of pop steps: the sample variance
// (n − 1) times the finite population correction 1 − n/pop, so that a sample of every step has
// the point as its interval. With fewer than two steps nothing is known beyond [0, 1].
func (m moments) interval(pop int) [2]float64 {
	if m.n == 0 {
		return [2]float64{0, 1}
	}
	mean := m.sum / float64(m.n)
	if m.n >= pop {
		return [2]float64{mean, mean}
	}
	if m.n < 2 {
		return [2]float64{0, 1}
	}
	n := float64(m.n)
	v := max(0, (m.sq-n*mean*mean)/(n-1))
	se := math.Sqrt(v / n * (1 - n/float64(pop)))
	z := distuv.UnitNormal.Quantile(1 - (1-Level)/2)
	return [2]float64{max(0, mean-z*se), min(1, mean+z*se)}
}

// quantileInterval is the distribution-free interval of the q-quantile from sorted xs: the order
// statistics whose ranks bound the binomial count of sample points below the quantile (normal
// approximation). A sample of the whole population (n ≥ pop) gives the point.
func quantileInterval(xs []float64, q float64, pop int) [2]float64 {
	n := len(xs)
	if n == 0 {
		return [2]float64{0, 0}
	}
	if n >= pop {
		v := quantile(xs, q)
		return [2]float64{v, v}
	}
	z := distuv.UnitNormal.Quantile(1 - (1-Level)/2)
	mid, half := float64(n)*q, z*math.Sqrt(float64(n)*q*(1-q))
	lo := min(max(int(math.Floor(mid-half)), 1), n)
	hi := min(max(int(math.Ceil(mid+half)), 1), n)
	return [2]float64{xs[lo-1], xs[hi-1]}
}

// intervals computes a sampled report's intervals from the replayed steps. rep holds the counts
// of the whole log (the populations).
func intervals(split dataset.Split, steps []step, opt Options, rep *Report) *Intervals {
	pct := popularityPercentiles(split, opt.ItemIDs)
	type cut struct{ hr, ndcg, mrr moments }
	newCuts := func() []cut { return make([]cut, len(opt.Ks)) }
	all, warm, cold := newCuts(), newCuts(), newCuts()
	var pop moments
	stageHits := map[string][]moments{}
	stageLat := map[string][]float64{}
	var lat []float64
	covered := map[int32]bool{}
	for i := range steps {
		st := &steps[i]
		if !st.replayed {
			continue
		}
		slice := cold
		if st.warm {
			slice = warm
		}
		for j, k := range opt.Ks {
			hr, ndcg, mrr := gains(st.rank, k)
			for _, c := range [][]cut{all, slice} {
				c[j].hr.add(hr)
				c[j].ndcg.add(ndcg)
				c[j].mrr.add(mrr)
			}
		}
		pop.add(topPopularity(st.top10, pct))
		for _, it := range st.top10 {
			covered[it] = true
		}
		for j, name := range st.stageNames {
			h, ok := stageHits[name]
			if !ok {
				h = make([]moments, len(opt.Ns))
				stageHits[name] = h
			}
			for k, n := range opt.Ns {
				hit := 0.0
				if r := st.stageRank[j]; r > 0 && r <= n {
					hit = 1
				}
				h[k].add(hit)
			}
			if d := st.stageTimes[j]; d > 0 {
				stageLat[name] = append(stageLat[name], ms(d))
			}
		}
		lat = append(lat, ms(st.latency))
	}
	counted := rep.WarmSteps + rep.ColdSteps
	out := &Intervals{
		Metrics:   map[string][2]float64{},
		Slices:    map[string]map[string][2]float64{"warm": {}, "cold": {}},
		Stages:    map[string]map[string][2]float64{},
		LatencyMS: map[string][2]float64{},
	}
	write := func(m map[string][2]float64, cuts []cut, popSize int) {
		for j, k := range opt.Ks {
			if cuts[j].hr.n == 0 {
				continue // no step of this slice in the sample: no estimate (as the report)
			}
			m[metricKey("hr", k)] = cuts[j].hr.interval(popSize)
			m[metricKey("ndcg", k)] = cuts[j].ndcg.interval(popSize)
			m[metricKey("mrr", k)] = cuts[j].mrr.interval(popSize)
		}
	}
	write(out.Metrics, all, counted)
	write(out.Slices["warm"], warm, rep.WarmSteps)
	write(out.Slices["cold"], cold, rep.ColdSteps)
	if pop.n > 0 {
		out.Metrics["popularity@10"] = pop.interval(counted)
	}
	if v, ok := rep.Metrics["coverage@10"]; ok {
		extra := 10 * float64(counted-pop.n) / float64(split.TrainItems)
		out.Metrics["coverage@10"] = [2]float64{v, min(1, float64(len(covered))/float64(split.TrainItems)+extra)}
	}
	for name, h := range stageHits {
		m := map[string][2]float64{}
		for k, n := range opt.Ns {
			m[recallKey(n)] = h[k].interval(counted)
		}
		out.Stages[name] = m
	}
	sort.Float64s(lat)
	for _, q := range latencyQuantiles {
		out.LatencyMS[percentileKey(q)] = quantileInterval(lat, q, counted)
	}
	for name, l := range stageLat {
		sort.Float64s(l)
		if out.StageLatencyMS == nil {
			out.StageLatencyMS = map[string]map[string][2]float64{}
		}
		// A stage is timed at only some steps (not those the fallback answered): its population is
		// the sample's share of them scaled to the log.
		stagePop := len(l) * counted / max(1, pop.n)
		m := map[string][2]float64{}
		for _, q := range latencyQuantiles {
			m[percentileKey(q)] = quantileInterval(l, q, stagePop)
		}
		out.StageLatencyMS[name] = m
	}
	return out
}
