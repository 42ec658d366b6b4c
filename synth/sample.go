package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// Choosing an item is a draw from softmax(p·q_i/τ + base_i) over the items a user may still take
// (base_i = bias_i/τ + popularity logit). Scoring the whole catalog per event would cost
// O(items·K) plus as many exps, far too slow for millions of events, so the draw is rejection
// sampling instead.
//
// Per user, the sampler keeps a proposal built around a reference vector p0 (the user's expected
// preference): w_i = exp(p0·q_i/τ + base_i). The event's target is w_i·exp(δ·q_i/τ) with
// δ = p − p0, small because p0 tracks the user. Items are grouped in clusters around centroids
// μ_c with radius R_c, so δ·q_i ≤ δ·μ_c + |δ|·R_c =: b_c for every member. The proposal picks
// cluster c ∝ (Σ_{available i∈c} w_i)·exp(b_c/τ), then i ∝ w_i within c, and accepts i with
// probability exp((δ·q_i − b_c)/τ): what is accepted follows the target exactly (to the 1e-9
// relative error of kernel.Exp64Neg). An event costs O(clusters) plus a few O(K) trials; rebuilding the
// proposal costs O(items·K) and happens when the trials since the last rebuild have cost about as
// much. After maxTrials rejections the draw falls back to scoring every item, which keeps it exact
// (the attempts are independent of the fallback).

const maxTrials = 400

// clusterFactor·√items clusters balance the per-event cluster pass against the trials (measured
// on the default world: 0.5 to 1.5 cost about the same, fewer or more cost more).
const clusterFactor = 1.0

// cluster is a group of items close in factor space.
type cluster struct {
	lo, hi   int // members are model.order[lo:hi]
	centroid []float64
	radius   float64 // max |q_i − centroid| over members, rounded up
}

// buildClusters groups the items by a few rounds of k-means on their factors. It returns the
// clusters, the items ordered by cluster and each item's cluster.
func buildClusters(r *rand.Rand, q []float32, k int) ([]cluster, []int32, []int32) {
	n := len(q) / k
	nc := min(n, max(1, int(math.Round(clusterFactor*math.Sqrt(float64(n))))), 128)
	centers := make([][]float64, nc)
	for c, i := range r.Perm(n)[:nc] {
		centers[c] = make([]float64, k)
		for d := range k {
			centers[c][d] = float64(q[i*k+d])
		}
	}
	assign := make([]int32, n)
	sums := make([][]float64, nc)
	for c := range sums {
		sums[c] = make([]float64, k)
	}
	sizes := make([]int, nc)
	for range 8 {
		for i := range n {
			row := q[i*k : (i+1)*k]
			best, bestD := 0, math.Inf(1)
			for c, mu := range centers {
				var dist float64
				for d, x := range row {
					e := float64(x) - mu[d]
					dist += e * e
				}
				if dist < bestD {
					best, bestD = c, dist
				}
			}
			assign[i] = int32(best)
		}
		for c := range sums {
			clear(sums[c])
			sizes[c] = 0
		}
		for i, c := range assign {
			sizes[c]++
			for d, x := range q[i*k : (i+1)*k] {
				sums[c][d] += float64(x)
			}
		}
		for c := range centers {
			if sizes[c] > 0 { // an empty cluster keeps its centre and is dropped below
				for d := range k {
					centers[c][d] = sums[c][d] / float64(sizes[c])
				}
			}
		}
	}
	var clusters []cluster
	index := make([]int32, nc)
	order := make([]int32, 0, n)
	for c := range nc {
		index[c] = -1
		if sizes[c] > 0 {
			index[c] = int32(len(clusters))
			clusters = append(clusters, cluster{centroid: centers[c]})
		}
	}
	itemCluster := make([]int32, n)
	for i, c := range assign {
		itemCluster[i] = index[c]
	}
	for c := range clusters {
		cl := &clusters[c]
		cl.lo = len(order)
		for i, ic := range itemCluster {
			if int(ic) == c {
				order = append(order, int32(i))
				var dist float64
				for d, x := range q[i*k : (i+1)*k] {
					e := float64(x) - cl.centroid[d]
					dist += e * e
				}
				cl.radius = max(cl.radius, math.Sqrt(dist))
			}
		}
		cl.hi = len(order)
		// A little slack so that rounding never lets an item's score exceed the bound.
		cl.radius = cl.radius*(1+1e-9) + 1e-9
	}
	return clusters, order, itemCluster
}

// Item states during one user's history.
const (
	available uint8 = iota
	consumed
	unreleased
)

// sampler generates users' histories; each worker has its own.
type sampler struct {
	m    *model
	mark []uint8 // per item

	// The user's tastes against the centroids: TasteStart·μ_c and TasteEnd·μ_c.
	startMu, endMu []float64

	// The proposal, rebuilt by refresh: the reference p0, p0·μ_c, the item weights
	// w_i = exp(p0·q_i/τ + lp_i − max), and within each cluster the running sums of the available
	// items' weights (by position in model.order; unavailable items add nothing) to draw members.
	p0     []float64
	p0Mu   []float64
	weight []float64
	cumW   []float64
	budget int // trials left before the next refresh

	logMass []float64 // per cluster: log of the available weight
	count   []int32   // per cluster: available items

	// The current event: p, δ = p − p0, the window's Σ q_j·μ_c, each cluster's bound b_c and
	// proposal weight, and their running sum.
	p, delta []float64
	winMu    []float64
	bound    []float64
	wc       []float64
	cum      []float64
	sum      []float64 // Σ factors of the user's items so far

	trials, scans, refreshes int // statistics for tuning
}

func newSampler(m *model) *sampler {
	nc, n, k := len(m.clusters), len(m.base), m.k
	return &sampler{
		m:       m,
		mark:    make([]uint8, n),
		startMu: make([]float64, nc),
		endMu:   make([]float64, nc),
		p0:      make([]float64, k),
		p0Mu:    make([]float64, nc),
		weight:  make([]float64, n),
		cumW:    make([]float64, n),
		logMass: make([]float64, nc),
		count:   make([]int32, nc),
		p:       make([]float64, k),
		delta:   make([]float64, k),
		winMu:   make([]float64, nc),
		bound:   make([]float64, nc),
		wc:      make([]float64, nc),
		cum:     make([]float64, nc),
		sum:     make([]float64, k),
	}
}

// user generates user u's events.
func (s *sampler) user(u int) (userEvents, error) {
	m, cfg := s.m, s.m.cfg
	us := &m.tr.Users[u]
	r := newRand(cfg.Seed, streamUser, uint64(u))
	n := us.Events
	ev := userEvents{
		items:   make([]int32, 0, n),
		times:   userTimes(r, n, us.Arrival, us.ActiveUntil, m.tr.End, cfg),
		ratings: make([]int8, 0, n),
	}
	if n == 0 {
		return ev, nil
	}
	// Items released after the first event are unavailable until their release.
	next := len(m.late)
	for j, i := range m.late {
		if m.release[i] > ev.times[0] {
			if next == len(m.late) {
				next = j
			}
			s.mark[i] = unreleased
		}
	}
	defer func() {
		for _, i := range ev.items {
			s.mark[i] = available
		}
		for _, i := range m.late[next:] {
			s.mark[i] = available
		}
	}()
	for c := range m.clusters {
		mu := m.clusters[c].centroid
		s.startMu[c], s.endMu[c] = kernel.Dot64x32(mu, us.TasteStart), kernel.Dot64x32(mu, us.TasteEnd)
	}
	clear(s.sum)
	clear(s.winMu)
	s.budget = 0
	h := cfg.HistoryLen
	for e, t := range ev.times {
		for ; next < len(m.late) && m.release[m.late[next]] <= t; next++ {
			i := m.late[next]
			s.mark[i] = available
			s.update(i, 1)
		}
		recent := ev.items[max(0, e-h):]
		m.tr.userVector(s.p, u, t, func(yield func(int) bool) {
			for _, i := range recent {
				if !yield(int(i)) {
					return
				}
			}
		})
		// Rebuild the proposal once the trials since the last rebuild have cost about as much.
		if s.budget <= 0 {
			s.refresh(u, t, e)
		}
		i, aff := s.choose(r, m.tr.Drift(u, t), len(recent))
		if i < 0 {
			return ev, fmt.Errorf("synth: user %d has no item left to consume at event %d", u, e)
		}
		s.mark[i] = consumed
		s.update(int32(i), -1)
		for d, x := range m.q[i*m.k : (i+1)*m.k] {
			s.sum[d] += float64(x)
		}
		// Slide the window's centroid products; recompute now and then so rounding cannot build up.
		if e+1 >= h && (e+1)%(64*h) == 0 {
			clear(s.winMu)
			for _, j := range ev.items[e+1-h:] {
				s.addWindow(int(j), 1)
			}
			s.addWindow(i, 1)
		} else {
			s.addWindow(i, 1)
			if e >= h {
				s.addWindow(int(ev.items[e-h]), -1)
			}
		}
		rating := math.Round(cfg.RatingBias + cfg.RatingScale*aff + cfg.RatingNoise*r.NormFloat64())
		ev.items = append(ev.items, int32(i))
		ev.ratings = append(ev.ratings, int8(min(max(rating, 1), 5)))
	}
	return ev, nil
}

// addWindow adds sign·q_i·μ_c to the window sums.
func (s *sampler) addWindow(i int, sign float64) {
	nc := len(s.winMu)
	for c, x := range s.m.qMu[i*nc : (i+1)*nc] {
		s.winMu[c] += sign * x
	}
}

// refresh rebuilds the proposal around the user's expected preference at t after e events: the
// long-term taste mixed with the mean of everything consumed so far, which the short-term
// interest (the mean of the last few items) scatters around.
func (s *sampler) refresh(u int, t int64, e int) {
	m := s.m
	s.refreshes++
	s.budget = refreshBudget(len(m.base))
	m.tr.userVector(s.p0, u, t, func(func(int) bool) {})
	if beta := m.cfg.ShortTermWeight; e > 0 && beta > 0 {
		for d := range s.p0 {
			s.p0[d] = (1-beta)*s.p0[d] + beta*s.sum[d]/float64(e)
		}
	}
	invTau := 1 / m.cfg.Temperature
	best := math.Inf(-1)
	for i := range s.weight {
		s.weight[i] = kernel.Dot64x32(s.p0, m.q[i*m.k:(i+1)*m.k])*invTau + m.base[i]
		best = max(best, s.weight[i])
	}
	for i, x := range s.weight {
		s.weight[i] = kernel.Exp64Neg(x - best)
	}
	for c := range m.clusters {
		cl := &m.clusters[c]
		var pm float64
		for d, x := range cl.centroid {
			pm += s.p0[d] * x
		}
		s.p0Mu[c] = pm
		var n int32
		for _, i := range m.order[cl.lo:cl.hi] {
			if s.mark[i] == available {
				n++
			}
		}
		s.count[c] = n
		s.recount(c, cl.lo)
	}
}

// refreshBudget is the number of rejection trials after which rebuilding the proposal (about the
// cost of scoring every item) pays for itself.
func refreshBudget(items int) int { return max(64, items) }

// recount recomputes cluster c's running sums from position from (in model.order) on and its
// log available weight; count[c] must be current.
func (s *sampler) recount(c, from int) {
	m := s.m
	cl := &m.clusters[c]
	var run float64
	if from > cl.lo {
		run = s.cumW[from-1]
	}
	for j := from; j < cl.hi; j++ {
		if i := m.order[j]; s.mark[i] == available {
			run += s.weight[i]
		}
		s.cumW[j] = run
	}
	if s.count[c] == 0 || run <= 0 {
		s.logMass[c] = math.Inf(-1)
		return
	}
	s.logMass[c] = math.Log(run)
}

// update refreshes the sums of item i's cluster after i became available (sign 1) or not (−1).
func (s *sampler) update(i int32, sign int32) {
	c := s.m.itemCluster[i]
	s.count[c] += sign
	s.recount(int(c), int(s.m.position[i]))
}

// fastExpSlack bounds the relative error of kernel.Exp64Neg; acceptance probabilities are scaled down by
// it so that they never exceed one.
const fastExpSlack = 1e-7

// choose draws an available item from softmax(p·q_i/τ + lp_i) (p is s.p, at drift d after n
// recent items) and returns it with its affinity p·q_i, or −1 when no item is available.
func (s *sampler) choose(r *rand.Rand, d float64, n int) (int, float64) {
	m := s.m
	var dn float64
	for k, x := range s.p {
		s.delta[k] = x - s.p0[k]
		dn += s.delta[k] * s.delta[k]
	}
	dn = math.Sqrt(dn)
	invTau := 1 / m.cfg.Temperature
	// p·μ_c from the per-user and per-window products, as userVector builds p.
	longW, shortW := 1.0, 0.0
	if beta := m.cfg.ShortTermWeight; n > 0 && beta > 0 {
		longW, shortW = 1-beta, beta/float64(n)
	}
	best := math.Inf(-1)
	for c := range s.bound {
		if s.count[c] == 0 {
			continue
		}
		pm := longW*((1-d)*s.startMu[c]+d*s.endMu[c]) + shortW*s.winMu[c]
		s.bound[c] = (pm-s.p0Mu[c]+dn*m.clusters[c].radius)*invTau + s.logMass[c]
		best = max(best, s.bound[c])
	}
	if math.IsInf(best, -1) {
		return -1, 0
	}
	var total float64
	for c, b := range s.bound {
		s.wc[c] = 0
		if s.count[c] > 0 {
			s.wc[c] = kernel.Exp64Neg(b - best)
		}
		total += s.wc[c]
		s.cum[c] = total
	}
	for range maxTrials {
		s.trials++
		s.budget--
		c := searchCum(s.cum, r.Float64()*total)
		i := s.member(r, c)
		row := m.q[i*m.k : (i+1)*m.k]
		// exp((δ·q_i − b_c)/τ) with b_c as rounded into the cluster's weight wc.
		accept := kernel.Exp64Neg(kernel.Dot64x32(s.delta, row)*invTau+s.logMass[c]-best) / s.wc[c] * (1 - 2*fastExpSlack)
		if r.Float64() < accept {
			return i, kernel.Dot64x32(s.p, row) + m.tr.Items[i].Bias
		}
	}
	s.scans++
	s.budget = 0
	return s.exact(r)
}

// searchCum returns the first index whose cumulative weight exceeds x.
func searchCum(cum []float64, x float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// member draws an available member of cluster c ∝ its proposal weight.
func (s *sampler) member(r *rand.Rand, c int) int {
	cl := &s.m.clusters[c]
	cum := s.cumW[cl.lo:cl.hi]
	j := searchCum(cum, r.Float64()*cum[len(cum)-1])
	// Unavailable members add no width, so the search lands on an available one, but rounding in
	// the last place could still hit one: step to the nearest available member.
	for k := 0; k < len(cum); k++ {
		for _, jj := range [2]int{j + k, j - k} {
			if jj >= 0 && jj < len(cum) {
				if i := int(s.m.order[cl.lo+jj]); s.mark[i] == available {
					return i
				}
			}
		}
	}
	return -1
}

// exact draws from the target by scoring every available item.
func (s *sampler) exact(r *rand.Rand) (int, float64) {
	m := s.m
	invTau := 1 / m.cfg.Temperature
	best := math.Inf(-1)
	for i := range m.base {
		if s.mark[i] == available {
			best = max(best, kernel.Dot64x32(s.p, m.q[i*m.k:(i+1)*m.k])*invTau+m.base[i])
		}
	}
	var total float64
	for i := range m.base {
		if s.mark[i] == available {
			total += math.Exp(kernel.Dot64x32(s.p, m.q[i*m.k:(i+1)*m.k])*invTau + m.base[i] - best)
		}
	}
	x := r.Float64() * total
	last := -1
	for i := range m.base {
		if s.mark[i] != available {
			continue
		}
		last = i
		if x -= math.Exp(kernel.Dot64x32(s.p, m.q[i*m.k:(i+1)*m.k])*invTau + m.base[i] - best); x < 0 {
			break
		}
	}
	if last < 0 {
		return -1, 0
	}
	return last, kernel.Dot64x32(s.p, m.q[last*m.k:(last+1)*m.k]) + m.tr.Items[last].Bias
}
