package synth

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// request is a logged request before it is served: who, when, and its draw number.
type request struct {
	user int32
	time int64
	draw int
}

// generateImpressions logs Config.Impressions requests served by the logging policy. Users make
// requests in proportion to their events, each a little before one of their events, so requests
// interleave with the event stream and see the history the user had then.
func (m *model) generateImpressions(ctx context.Context, w *World) ([]Impression, error) {
	cfg := m.cfg
	if cfg.Impressions == 0 {
		return nil, nil
	}
	r := newRand(cfg.Seed, streamRequests, 0)
	cum := make([]float64, len(w.Users))
	var total float64
	for u := range w.Users {
		total += float64(len(w.byUser[u]))
		cum[u] = total
	}
	reqs := make([]request, cfg.Impressions)
	for n := range reqs {
		u := searchCum(cum, r.Float64()*total)
		evs := w.byUser[u]
		e := w.Events[evs[r.IntN(len(evs))]]
		t := max(e.Time-1-r.Int64N(600), w.Users[u].Arrival, w.Start)
		reqs[n] = request{user: int32(u), time: t, draw: n}
	}
	// Request IDs follow time order.
	slices.SortFunc(reqs, func(a, b request) int {
		return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.user, b.user), cmp.Compare(a.draw, b.draw))
	})
	byUser := make([][]int, len(w.Users))
	var users []int
	for n, q := range reqs {
		if byUser[q.user] == nil {
			users = append(users, int(q.user))
		}
		byUser[q.user] = append(byUser[q.user], n)
	}
	slices.Sort(users)

	out := make([]Impression, len(reqs))
	loggers := make([]*logger, kernel.Workers(m.cfg.Workers))
	err := kernel.For(ctx, len(users), 1, len(loggers), func(wk, j, _ int) error {
		if loggers[wk] == nil {
			loggers[wk] = newLogger(m, w)
		}
		loggers[wk].user(users[j], byUser[users[j]], reqs, out)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// logger serves requests with the logging policy; each worker has its own.
type logger struct {
	m      *model
	w      *World
	mark   []uint8
	policy []float64                // the current user's policy logits
	pool   []kernel.Scored[float64] // the policy's best items, best first
	weight []float64
	at     []int
	p      []float64
	pl     plScratch
}

func newLogger(m *model, w *World) *logger {
	return &logger{
		m:      m,
		w:      w,
		mark:   make([]uint8, len(m.base)),
		policy: make([]float64, len(m.base)),
		p:      make([]float64, m.k),
	}
}

// user serves user u's requests (indices into reqs, in time order) and stores them in out.
func (lg *logger) user(u int, mine []int, reqs []request, out []Impression) {
	m, cfg, tr := lg.m, lg.m.cfg, lg.m.tr
	taste := tr.Users[u].PolicyTaste
	for i := range lg.policy {
		lg.policy[i] = cfg.PolicyPopWeight*m.lp[i] + cfg.PolicyAffinityWeight*(dot32(taste, m.q[i*m.k:(i+1)*m.k])+tr.Items[i].Bias)/cfg.Temperature
	}
	evs := lg.w.byUser[u]
	h := 0 // events before the current request
	defer func() {
		for _, e := range evs[:h] {
			lg.mark[lg.w.Events[e].Item] = available
		}
	}()
	for _, n := range mine {
		q := reqs[n]
		r := newRand(cfg.Seed, streamRequest, uint64(n))
		for ; h < len(evs) && lg.w.Events[evs[h]].Time < q.time; h++ {
			lg.mark[lg.w.Events[evs[h]].Item] = consumed
		}
		lg.fillPool(q.time)
		shown := lg.slate(r)

		recent := evs[max(0, h-cfg.HistoryLen):h]
		tr.userVector(lg.p, u, q.time, func(yield func(int) bool) {
			for _, e := range recent {
				if !yield(int(lg.w.Events[e].Item)) {
					return
				}
			}
		})
		imp := Impression{User: int32(u), Time: q.time, Shown: shown}
		for k, s := range shown {
			aff := kernel.Dot64x32(lg.p, m.q[int(s.Item)*m.k:int(s.Item+1)*m.k]) + tr.Items[s.Item].Bias
			examine := math.Pow(float64(k+1), -cfg.PositionDecay)
			attract := 1 / (1 + math.Exp(-(cfg.ClickScale*aff + cfg.ClickBias)))
			if r.Float64() < examine*attract {
				imp.Clicked = append(imp.Clicked, s.Item)
			}
		}
		out[n] = imp
	}
}

// fillPool sets lg.pool to the PoolSize available items (released by t, not consumed) with the
// highest policy logits, best first.
func (lg *logger) fillPool(t int64) {
	m := lg.m
	pool := kernel.TopK[float64](lg.pool[:0])
	for i, logit := range lg.policy {
		if lg.mark[i] != available || m.release[i] > t {
			continue
		}
		pool.Offer(kernel.Scored[float64]{ID: int32(i), Score: logit}, m.cfg.PoolSize)
	}
	lg.pool = pool.Sorted()
}

// slate draws the shown items from the pool by Plackett–Luce sampling with weights
// exp(policy logit) and computes their position propensities.
func (lg *logger) slate(r *rand.Rand) []Shown {
	pool := lg.pool
	if len(pool) == 0 {
		return nil
	}
	n := min(lg.m.cfg.Shown, len(pool))
	lg.weight = lg.weight[:0]
	top := pool[0].Score
	for _, it := range pool {
		lg.weight = append(lg.weight, math.Exp(it.Score-top))
	}
	left := append([]float64(nil), lg.weight...)
	var total float64
	for _, x := range left {
		total += x
	}
	lg.at = lg.at[:0]
	for range n {
		pick := kernel.Pick(r.Float64(), left, total)
		lg.at = append(lg.at, pick)
		total -= left[pick]
		left[pick] = 0
		if total <= 0 { // rounding: recompute
			total = 0
			for _, x := range left {
				total += x
			}
		}
	}
	prop := lg.pl.marginals(lg.weight, lg.at, 0.4)
	shown := make([]Shown, n)
	for k, j := range lg.at {
		shown[k] = Shown{Item: pool[j].ID, Position: k + 1, Propensity: roundSignificant(min(prop[k], 1), 8)}
	}
	return shown
}

// roundSignificant rounds x to n significant digits: the propensities are accurate to about 1e-8
// relative, and more digits would only lengthen the log.
func roundSignificant(x float64, n int) float64 {
	y, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', n, 64), 64)
	return y
}

func dot32(a, b []float32) float64 {
	var s float64
	for k, x := range a[:len(b)] {
		s += float64(x) * float64(b[k])
	}
	return s
}

// plMarginals returns, for each k, the probability that a Plackett–Luce draw with weights w
// (sequential sampling without replacement ∝ w) puts item at[k] at position k (0-based).
//
// The draw is an exponential race: item j arrives at T_j ~ Exp(w_j) and items are shown in order
// of arrival. So item i is at position k when exactly k of the others arrive before it:
//
//	P(π_k = i) = ∫₀^∞ w_i e^{−w_i t} [z^k] Π_{j≠i} (e^{−w_j t} + (1 − e^{−w_j t}) z) dt.
//
// The integrand is smooth and decays fast at both ends in x = ln t, where the trapezoidal rule
// converges geometrically; the polynomial products for every i come from prefix and suffix
// products truncated to the needed degree. Every term is non-negative, so nothing cancels.
func plMarginals(w []float64, at []int) []float64 {
	var sc plScratch
	return sc.marginals(w, at, 0.4)
}

// plScratch holds plMarginals' buffers for reuse across requests.
type plScratch struct {
	res, wn, a, b, pre, preAt, sufAt []float64
	slot, needPre, needSuf           []int
}

// marginals is plMarginals with trapezoid step step (in ln t); the result is valid until the
// next call.
func (sc *plScratch) marginals(w []float64, at []int, step float64) []float64 {
	res := kernel.Grow(sc.res, len(at))
	sc.res = res
	clear(res)
	if len(at) == 0 {
		return res
	}
	var wmax, wsum float64
	for _, x := range w {
		wmax = max(wmax, x)
		wsum += x
	}
	res[0] = w[at[0]] / wsum // the first position has a closed form
	if len(at) == 1 {
		return res
	}
	n := len(w)
	sc.wn, sc.a, sc.b = kernel.Grow(sc.wn, n), kernel.Grow(sc.a, n), kernel.Grow(sc.b, n)
	wn, a, b := sc.wn, sc.a, sc.b
	for j, x := range w {
		wn[j] = x / wmax
	}
	sc.slot = kernel.Grow(sc.slot, n)
	slot := sc.slot
	for j := range slot {
		slot[j] = -1
	}
	wmin := 1.0
	for k, j := range at {
		slot[j] = k
		if k > 0 {
			wmin = min(wmin, wn[j])
		}
	}
	deg := len(at) // coefficients 0..len(at)-1
	// The prefix product past item j serves only targets after j, so it needs no more than the
	// largest of their positions as degree; likewise the suffix product for targets before j.
	sc.needPre, sc.needSuf = kernel.Grow(sc.needPre, n+1), kernel.Grow(sc.needSuf, n+1)
	needPre, needSuf := sc.needPre, sc.needSuf
	needPre[n], needSuf[0] = -1, -1
	for j := n - 1; j >= 0; j-- {
		needPre[j] = needPre[j+1]
		if slot[j] > 0 {
			needPre[j] = max(needPre[j], slot[j])
		}
	}
	for j := range n {
		needSuf[j+1] = needSuf[j]
		if slot[j] > 0 {
			needSuf[j+1] = max(needSuf[j+1], slot[j])
		}
	}
	sc.pre, sc.preAt, sc.sufAt = kernel.Grow(sc.pre, deg), kernel.Grow(sc.preAt, len(at)*deg), kernel.Grow(sc.sufAt, len(at)*deg)
	pre, preAt, sufAt := sc.pre, sc.preAt, sc.sufAt
	// For position k ≥ 1 the integrand is below w_i·t·(Σw·t)^k/k! ≤ Σw·t², negligible below
	// t = √(1e-12/Σw); above w_i·t = 40 it is below e^{−40}.
	xlo, xhi := 0.5*math.Log(1e-12/(wsum/wmax)), math.Log(40/wmin)
	for x := xlo; x <= xhi+step; x += step {
		t := math.Exp(x)
		for j, wj := range wn {
			switch wt := wj * t; {
			case wt < 1e-17: // (a + b·z) is 1 to double precision
				a[j], b[j] = 1, 0
			case wt > 700: // and z beyond this
				a[j], b[j] = 0, 1
			case wt < 0.1: // 1 − e^{−wt} by its series, accurate where 1 − a would cancel
				y := -wt
				b[j] = -y * (1 + y*(1.0/2+y*(1.0/6+y*(1.0/24+y*(1.0/120+y*(1.0/720+y*(1.0/5040+y*(1.0/40320+y/362880))))))))
				a[j] = 1 - b[j]
			default:
				a[j] = kernel.Exp64Neg(-wt)
				b[j] = 1 - a[j]
			}
		}
		clear(pre)
		pre[0] = 1
		for j := range wn {
			if needPre[j] < 0 {
				break
			}
			if s := slot[j]; s > 0 {
				copy(preAt[s*deg:s*deg+s+1], pre)
			}
			if n := needPre[j+1]; b[j] != 0 && n >= 0 {
				polyMul(pre[:n+1], a[j], b[j])
			}
		}
		clear(pre)
		pre[0] = 1
		for j := len(wn) - 1; j >= 0; j-- {
			if s := slot[j]; s > 0 {
				copy(sufAt[s*deg:s*deg+s+1], pre)
			}
			if n := needSuf[j]; b[j] != 0 && n >= 0 {
				polyMul(pre[:n+1], a[j], b[j])
			} else if n < 0 {
				break
			}
		}
		for k, j := range at[1:] {
			k++
			pa, sa := preAt[k*deg:(k+1)*deg], sufAt[k*deg:(k+1)*deg]
			var coef float64
			for d := 0; d <= k; d++ {
				coef += pa[d] * sa[k-d]
			}
			res[k] += wn[j] * t * a[j] * coef * step
		}
	}
	return res
}

// polyMul multiplies the truncated polynomial p by (a + b·z) in place.
func polyMul(p []float64, a, b float64) {
	for d := len(p) - 1; d > 0; d-- {
		p[d] = p[d]*a + p[d-1]*b
	}
	p[0] *= a
}
