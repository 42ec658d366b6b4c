package synth

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/cascade-rec/cascade/internal/kernel"
)

const day = 86400

// countries users come from; each has its own leaning over genres, so user attributes say
// something about taste (and help with cold users).
var countries = []string{"US", "GB", "DE", "FR", "BR", "IN", "JP", "CA", "ES", "MX"}

// Generate builds the world cfg describes: the truth model, the events and the logged impressions.
func Generate(ctx context.Context, cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := newModel(&cfg)
	w := &World{Truth: m.tr}
	perUser, err := m.generateEvents(ctx)
	if err != nil {
		return nil, err
	}
	w.Events, w.byUser = mergeEvents(perUser, cfg.Events)
	if w.Impressions, err = m.generateImpressions(ctx, w); err != nil {
		return nil, err
	}
	return w, nil
}

// model holds the truth and the read-only tables the samplers share.
type model struct {
	cfg *Config
	tr  *Truth
	k   int
	q   []float32 // item factors, items × k; Truth.Items[i].Factors are views into it
	lp  []float64 // popularity logits
	// base is each item's part of the choice logit that does not depend on the user:
	// bias/τ + popularity logit.
	base []float64
	// release[i] is Items[i].Release, kept apart for the scans over the catalog.
	release []int64
	// late lists the items released after Start, by release time.
	late        []int32
	clusters    []cluster
	order       []int32 // items grouped by cluster
	position    []int32 // of each item in order
	itemCluster []int32
	qMu         []float64 // q_i·μ_c, items × clusters
}

// newModel draws the model parameters, the catalog and the users with their event counts.
func newModel(cfg *Config) *model {
	r := newRand(cfg.Seed, streamModel, 0)
	k, g, nItems, nUsers := cfg.Factors, cfg.Genres, cfg.Items, cfg.Users
	start := cfg.Start
	end := start + int64(cfg.Days)*day
	tr := &Truth{Version: truthVersion, Config: *cfg, Start: start, End: end, Model: modelText}
	m := &model{cfg: &tr.Config, tr: tr, k: k}

	width := max(2, len(strconv.Itoa(g-1)))
	genreVec := make([][]float64, g)
	genreWeight := make([]float64, g) // a few genres hold most items, as in MovieLens
	for j := range g {
		tr.Genres = append(tr.Genres, fmt.Sprintf("g%0*d", width, j))
		genreVec[j] = gaussVec(r, k, 1)
		tr.GenreFactors = append(tr.GenreFactors, toFloat32(genreVec[j]))
		genreWeight[j] = math.Pow(float64(j+1), -0.8)
	}

	// Items.
	m.q = make([]float32, nItems*k)
	m.lp = make([]float64, nItems)
	m.base = make([]float64, nItems)
	rank := r.Perm(nItems)
	isNew := make([]bool, nItems)
	for _, i := range r.Perm(nItems)[:int(cfg.NewItems*float64(nItems))] {
		isNew[i] = true
	}
	startYear := time.Unix(start, 0).UTC().Year()
	tr.Items = make([]ItemTruth, nItems)
	f := make([]float64, k)
	for i := range tr.Items {
		it := &tr.Items[i]
		it.ID = "i" + strconv.Itoa(i)
		ng := 1
		if x := r.Float64(); x >= 0.85 {
			ng = 3
		} else if x >= 0.5 {
			ng = 2
		}
		it.Genres = pickWeighted(r, genreWeight, ng)
		clear(f)
		for _, j := range it.Genres {
			for d, v := range genreVec[j] {
				f[d] += v / float64(len(it.Genres))
			}
		}
		for d, v := range gaussVec(r, k, cfg.ItemNoise) {
			f[d] += v
		}
		row := m.q[i*k : (i+1)*k : (i+1)*k]
		for d, v := range f {
			row[d] = float32(v)
		}
		it.Factors = row
		m.lp[i] = -cfg.Zipf * math.Log(float64(rank[i]+1))
		it.PopularityLogit = m.lp[i]
		// Popular items are liked more: the bias falls with the popularity percentile.
		pct := float64(rank[i]) / float64(max(1, nItems-1))
		it.Bias = cfg.ItemBias * (1 - 2*pct + 0.5*r.NormFloat64())
		m.base[i] = it.Bias/cfg.Temperature + m.lp[i]
		it.Release = start
		if isNew[i] {
			it.Release = start + 1 + r.Int64N(end-start-1)
			it.Year = time.Unix(it.Release, 0).UTC().Year()
		} else {
			it.Year = startYear - 1 - min(int(r.ExpFloat64()*12), 70)
		}
		it.Price = max(0.99, math.Round(math.Exp(math.Log(9.99)+0.5*r.NormFloat64())*100)/100)
	}
	m.release = make([]int64, nItems)
	for i := range tr.Items {
		m.release[i] = tr.Items[i].Release
		if tr.Items[i].Release > start {
			m.late = append(m.late, int32(i))
		}
	}
	slices.SortFunc(m.late, func(a, b int32) int {
		return cmp.Or(cmp.Compare(tr.Items[a].Release, tr.Items[b].Release), cmp.Compare(a, b))
	})
	m.clusters, m.order, m.itemCluster = buildClusters(r, m.q, k)
	m.position = make([]int32, nItems)
	for j, i := range m.order {
		m.position[i] = int32(j)
	}
	m.qMu = make([]float64, 0, nItems*len(m.clusters))
	for i := range nItems {
		for _, cl := range m.clusters {
			m.qMu = append(m.qMu, kernel.Dot64x32(cl.centroid, m.q[i*k:(i+1)*k]))
		}
	}

	// Users, numbered in order of arrival.
	countryWeight := make([]float64, len(countries))
	countryGenre := make([][]float64, len(countries))
	for c := range countries {
		countryWeight[c] = 1 / float64(c+1)
		countryGenre[c] = make([]float64, g)
		for j := range g {
			countryGenre[c][j] = genreWeight[j] * (0.25 + r.ExpFloat64())
		}
	}
	arrival := make([]int64, nUsers)
	for u := range arrival {
		if r.Float64() < cfg.InitialUsers {
			arrival[u] = start + r.Int64N(day)
		} else {
			arrival[u] = start + r.Int64N(end-start)
		}
	}
	slices.Sort(arrival)
	// Activity is a rate: a user's share of the events grows with the time they stay, so users
	// who arrive late do not crowd the end of the window.
	activity := make([]float64, nUsers)
	until := make([]int64, nUsers)
	for u := range activity {
		life := min(float64(end-1-arrival[u]), r.ExpFloat64()*cfg.ActiveDays*day)
		until[u] = arrival[u] + int64(life)
		activity[u] = math.Exp(cfg.ActivitySigma*r.NormFloat64()) * (life + 7*day)
	}
	counts := allocate(cfg.Events, activity, cfg.MinUserEvents, cfg.MaxUserEvents())
	segments := segmentsByActivity(counts)
	tr.Users = make([]UserTruth, nUsers)
	for u := range tr.Users {
		c := pickWeighted(r, countryWeight, 1)[0]
		us := &tr.Users[u]
		*us = UserTruth{
			ID:          "u" + strconv.Itoa(u),
			Arrival:     arrival[u],
			ActiveUntil: until[u],
			Segment:     segments[u],
			Country:     countries[c],
			Events:      counts[u],
		}
		var first, last []float64
		us.StartGenres, first = taste(r, countryGenre[c], genreVec, cfg)
		us.EndGenres, last = taste(r, countryGenre[c], genreVec, cfg)
		us.TasteStart, us.TasteEnd = toFloat32(first), toFloat32(last)
		for d, v := range gaussVec(r, k, cfg.PolicyNoise) {
			first[d] += v
		}
		us.PolicyTaste = toFloat32(first)
	}
	return m
}

// taste draws a long-term taste: a Dirichlet mix of TasteGenres genres chosen by the country's
// leaning, plus noise.
func taste(r *rand.Rand, leaning []float64, genreVec [][]float64, cfg *Config) ([]int, []float64) {
	gs := pickWeighted(r, leaning, cfg.TasteGenres)
	mix := dirichlet1(r, len(gs))
	v := gaussVec(r, cfg.Factors, cfg.UserNoise)
	for n, j := range gs {
		for d, x := range genreVec[j] {
			v[d] += mix[n] * x
		}
	}
	return gs, v
}

func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// allocate splits total events over users in proportion to activity, each getting at least base
// (when total allows) and at most limit. Validate guarantees total ≤ len(activity)·limit.
func allocate(total int, activity []float64, base, limit int) []int {
	n := len(activity)
	base = min(base, total/n, limit)
	counts := make([]int, n)
	rest := total - base*n
	room := float64(limit - base)
	// Water-filling: the shares above room are capped there and the excess spread over the rest.
	capped := make([]bool, n)
	var scale float64
	for {
		left, wsum := float64(rest), 0.0
		for u, c := range capped {
			if c {
				left -= room
			} else {
				wsum += activity[u]
			}
		}
		if wsum == 0 {
			break
		}
		scale = left / wsum
		changed := false
		for u := range capped {
			if !capped[u] && scale*activity[u] >= room {
				capped[u], changed = true, true
			}
		}
		if !changed {
			break
		}
	}
	frac := make([]float64, n)
	assigned := 0
	for u := range counts {
		x := room
		if !capped[u] {
			x = min(scale*activity[u], room)
		}
		whole := int(x)
		counts[u] = base + whole
		frac[u] = x - float64(whole)
		assigned += whole
	}
	// Largest remainders take the events lost to rounding down.
	order := make([]int, n)
	for u := range order {
		order[u] = u
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(cmp.Compare(frac[b], frac[a]), cmp.Compare(a, b)) })
	for left := rest - assigned; left > 0; {
		progress := false
		for _, u := range order {
			if left == 0 {
				break
			}
			if counts[u] < limit {
				counts[u]++
				left--
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	return counts
}

// segmentsByActivity labels the top 10% of users by event count "power", the next 40% "regular"
// and the rest "casual".
func segmentsByActivity(counts []int) []string {
	order := make([]int, len(counts))
	for u := range order {
		order[u] = u
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
	seg := make([]string, len(counts))
	for r, u := range order {
		switch {
		case r < len(order)/10:
			seg[u] = "power"
		case r < len(order)/2:
			seg[u] = "regular"
		default:
			seg[u] = "casual"
		}
	}
	return seg
}

// userEvents is one user's generated history.
type userEvents struct {
	items   []int32
	times   []int64
	ratings []int8
}

// generateEvents runs every user's history on the workers. Users are independent given the model,
// so each draws from its own source and the result does not depend on scheduling.
func (m *model) generateEvents(ctx context.Context) ([]userEvents, error) {
	out := make([]userEvents, len(m.tr.Users))
	samplers := make([]*sampler, kernel.Workers(m.cfg.Workers))
	err := kernel.For(ctx, len(out), 1, len(samplers), func(wk, u, _ int) error {
		if samplers[wk] == nil {
			samplers[wk] = newSampler(m)
		}
		ev, err := samplers[wk].user(u)
		if err != nil {
			return err
		}
		out[u] = ev
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// userTimes spreads n event times over the user's active span [arrival, until] in sessions: a
// session starts at arrival, the others at uniform times within the span, and events within a
// session follow each other by exponential gaps.
func userTimes(r *rand.Rand, n int, arrival, until, end int64, cfg *Config) []int64 {
	life := float64(until - arrival)
	newSession := make([]bool, n)
	var starts []float64
	for j := 1; j < n; j++ {
		if r.Float64()*cfg.SessionEvents < 1 {
			newSession[j] = true
			starts = append(starts, r.Float64()*life)
		}
	}
	slices.Sort(starts)
	times := make([]int64, n)
	t := float64(arrival)
	for j := range times {
		gap := r.ExpFloat64() * cfg.SessionGap
		switch {
		case j == 0:
		case newSession[j]:
			t = max(float64(arrival)+starts[0], t+gap)
			starts = starts[1:]
		default:
			t += gap
		}
		times[j] = min(int64(t), end-1)
	}
	return times
}

// mergeEvents merges the users' time-ordered histories into one stream ordered by (time, user,
// the user's own order), and returns each user's event indices.
func mergeEvents(perUser []userEvents, total int) ([]Event, [][]int32) {
	events := make([]Event, 0, total)
	byUser := make([][]int32, len(perUser))
	h := make(mergeHeap, 0, len(perUser))
	for u := range perUser {
		if len(perUser[u].items) > 0 {
			h = append(h, mergeHead{perUser[u].times[0], int32(u), 0})
		}
		byUser[u] = make([]int32, 0, len(perUser[u].items))
	}
	heap.Init(&h)
	for len(h) > 0 {
		top := &h[0]
		ue := &perUser[top.user]
		byUser[top.user] = append(byUser[top.user], int32(len(events)))
		events = append(events, Event{User: top.user, Item: ue.items[top.pos], Time: top.time, Rating: ue.ratings[top.pos]})
		if top.pos++; int(top.pos) < len(ue.items) {
			top.time = ue.times[top.pos]
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return events, byUser
}

type mergeHead struct {
	time int64
	user int32
	pos  int32
}

type mergeHeap []mergeHead

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	return h[i].time < h[j].time || h[i].time == h[j].time && h[i].user < h[j].user
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeHead)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

const modelText = `item factors q_i = mean of the item's genre factors + noise; ` +
	`bias_i = item_bias*(1 - 2*popularity percentile + N(0, 0.25)); ` +
	`long-term taste l_u(t) = (1-d)*taste_start + d*taste_end with d = min(1, max(0, drift*(t-arrival)/(end-start))); ` +
	`short-term interest s = mean factors of the user's last history_len items; ` +
	`p = (1-short_term_weight)*l_u(t) + short_term_weight*s (p = l_u(t) with no history); affinity = p.q_i + bias_i; ` +
	`an event picks item i among released, not yet consumed items with probability proportional to exp(affinity/temperature + popularity_logit); ` +
	`rating = clamp(round(rating_bias + rating_scale*affinity + rating_noise*N(0,1)), 1, 5); ` +
	`logging policy: pool = top pool_size released, unconsumed items by policy logit ` +
	`policy_pop_weight*popularity_logit + policy_affinity_weight*(policy_taste.q_i + bias_i)/temperature, ` +
	`slate = Plackett-Luce draw of shown items from the pool with weights exp(policy logit), ` +
	`propensity = probability that the policy puts the item at that position; ` +
	`click probability at position k = k^-position_decay * sigmoid(click_scale*affinity + click_bias)`
