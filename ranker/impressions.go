package ranker

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

// Rows built from impressions may carry the shown position as a feature. A click depends on the
// position (users look less far down a list) as much as on the item; with the position a column
// of its own, a model learns that effect apart from the item's, and serving scores every
// candidate at the same position, so that the order is by the item alone (position as a
// training-only feature). ServePosition is the top slot: a score then estimates the item's
// attraction where it is most often examined; any constant gives a GBDT the same order.
const (
	PositionFeature = "shown_position"
	ServePosition   = 1
)

// MinPropensity floors logged propensities when they become weights, so that one rarely shown
// item weighs at most 1/MinPropensity (100) times a certainly shown one.
const MinPropensity = 0.01

// Impression is one logged slate: the request as the models saw it and what was shown.
type Impression struct {
	// Query is the request: the user (dense, −1 when unknown) and its time. When History is nil,
	// BuildImpressions takes the user's events before Time as the history.
	Query candidates.Query
	Shown []Shown // in position order
}

// Shown is one item of a slate.
type Shown struct {
	Item       int32   // dense item ID; −1 (or beyond the catalog) when the catalog does not know it
	Position   int     // 1-based
	Propensity float64 // the logging policy's probability of this item at this position; 0 when unknown
	Clicked    bool    // a logged click
}

// ImpressionOptions configure BuildImpressions.
type ImpressionOptions struct {
	// NumItems bounds the catalog: items outside [0, NumItems) are unknown.
	NumItems int
	// Window makes a shown item positive when the user takes it (an event) at most Window after
	// the request, crediting the latest slate that showed it; a logged click is positive in any case.
	Window time.Duration
	// Position adds the PositionFeature column (the shown position; ServePosition for sampled
	// negatives). When the stages already compute such a column, it is overwritten instead.
	Position bool
	// PropensityWeights weighs each shown row by 1/max(propensity, MinPropensity) (1 when the
	// propensity is unknown, and for sampled negatives), normalised to a mean of 1 over the
	// shown rows: the items the logging policy favoured count no more than the others.
	PropensityWeights bool
	// RandomNegatives adds ⌊RandomNegatives·shown⌋ uniformly random catalog items to each slate,
	// neither shown nor in the history, labelled 0.
	RandomNegatives float64
	// MaxRequests keeps at most this many impressions, evenly spaced (0: all).
	MaxRequests int
	// Seed drives the sampled negatives: each impression (by its index in time order) draws from
	// its own stream, so that the set does not depend on Workers.
	Seed uint64
	// Workers splits the impressions into that many contiguous shares (0 = GOMAXPROCS).
	Workers int
}

func (o *ImpressionOptions) validate() error {
	switch {
	case o.NumItems <= 0:
		return fmt.Errorf("ranker: ImpressionOptions.NumItems = %d, want > 0", o.NumItems)
	case o.Window < 0:
		return fmt.Errorf("ranker: ImpressionOptions.Window = %v, want ≥ 0", o.Window)
	case o.MaxRequests < 0:
		return fmt.Errorf("ranker: ImpressionOptions.MaxRequests = %d, want ≥ 0", o.MaxRequests)
	case !(o.RandomNegatives >= 0 && o.RandomNegatives <= 100):
		return fmt.Errorf("ranker: ImpressionOptions.RandomNegatives = %v, want in [0, 100]", o.RandomNegatives)
	}
	return nil
}

// BuildImpressions builds a ranking set from logged slates: one request per impression (in time
// order), whose candidates are the shown items known to the catalog (the first position of an
// item shown twice) followed by the sampled negatives. Labels: 1 for a logged click or an item
// the user takes within opt.Window (events, in time order; the user's events before the request
// are also its history when the impression carries none), 0 for shown and not taken. Features
// are st's for the request, computed as for the candidate-based set: st proposes its own
// candidates too (features may depend on the whole list), and the rows of the shown items and
// negatives are kept. Impressions whose history holds no catalog item, or for which st proposes
// nothing, are left out and counted.
func BuildImpressions(ctx context.Context, imps []Impression, events []dataset.Event, st Stages, opt ImpressionOptions) (*Set, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	imps = slices.Clone(imps)
	slices.SortStableFunc(imps, func(a, b Impression) int { return cmp.Compare(a.Query.Time, b.Query.Time) })
	if opt.MaxRequests > 0 && len(imps) > opt.MaxRequests {
		picked := make([]Impression, opt.MaxRequests)
		for i := range picked {
			picked[i] = imps[i*len(imps)/opt.MaxRequests]
		}
		imps = picked
	}
	byUser := map[int32][]dataset.Event{}
	for _, e := range events {
		byUser[e.User] = append(byUser[e.User], e)
	}
	names := slices.Clone(st.FeatureNames())
	posCol := slices.Index(names, PositionFeature)
	if opt.Position && posCol < 0 {
		posCol = len(names)
		names = append(names, PositionFeature)
	}
	reqs := make([]Request, len(imps))
	kept := make([]keep, len(imps))
	dups := make([]int, len(imps))
	clicked := make([][]bool, len(imps)) // per request, per shown item
	err := forShares(ctx, len(imps), opt.Workers, opt.Seed, func(ctx context.Context, i int, _ *rand.Rand) error {
		imp := imps[i]
		rng := rand.New(rand.NewPCG(opt.Seed, uint64(i)))
		var err error
		kept[i], dups[i], clicked[i], err = buildImpression(ctx, st, &imp, byUser[imp.Query.User], posCol, &opt, rng, &reqs[i])
		if err != nil {
			return fmt.Errorf("ranker: impression of user %d at %d: %w", imp.Query.User, imp.Query.Time, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	set := &Set{FeatureNames: names}
	set.Stats.Events = len(imps)
	var clicks [][]bool // of the built requests
	for i, k := range kept {
		switch k {
		case built:
			set.Requests = append(set.Requests, reqs[i])
			clicks = append(clicks, clicked[i])
			set.Impressions.Duplicates += dups[i]
		case noHistory:
			set.Stats.NoHistory++
		case noCandidates:
			set.Stats.NoCandidates++
		}
		for _, s := range imps[i].Shown {
			if s.Item < 0 || int(s.Item) >= opt.NumItems {
				set.Impressions.UnknownItems++
			}
		}
	}
	labelConsumed(set, byUser, opt.Window)
	for k := range set.Requests {
		r := &set.Requests[k]
		set.Impressions.Shown += r.Proposed
		for i, c := range clicks[k] {
			if c {
				set.Impressions.Clicked++
				r.Labels[i] = 1
			}
		}
	}
	if opt.PropensityWeights {
		normaliseWeights(set)
	}
	set.recount()
	return set, nil
}

// buildImpression builds the request of one impression into r, with every label 0, and returns
// the repeated items it left out and which shown items were clicked (labels from clicks and
// window events are set over the whole set afterwards).
func buildImpression(ctx context.Context, st Stages, imp *Impression, evs []dataset.Event, posCol int, opt *ImpressionOptions, rng *rand.Rand, r *Request) (keep, int, []bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, nil, err
	}
	q := imp.Query
	if q.History == nil {
		n := sort.Search(len(evs), func(k int) bool { return evs[k].Time >= q.Time })
		q.History, q.HistoryTimes, q.HistoryValues = make([]int32, n), make([]int64, n), make([]float32, n)
		for k, e := range evs[:n] {
			q.History[k], q.HistoryTimes[k], q.HistoryValues[k] = e.Item, e.Time, e.Value
		}
	}
	if !slices.ContainsFunc(q.History, func(it int32) bool { return it >= 0 && int(it) < opt.NumItems }) {
		return noHistory, 0, nil, nil
	}
	var shown []Shown
	dups := 0
	for _, s := range imp.Shown {
		switch {
		case s.Item < 0 || int(s.Item) >= opt.NumItems:
		case slices.ContainsFunc(shown, func(o Shown) bool { return o.Item == s.Item }):
			dups++
		default:
			shown = append(shown, s)
		}
	}
	if len(shown) == 0 {
		return noCandidates, dups, nil, nil
	}
	shownItems := make([]int32, len(shown))
	for k, s := range shown {
		shownItems[k] = s.Item
	}
	var negs []int32
	extra := func(proposed []int32) []int32 {
		if want := int(opt.RandomNegatives * float64(len(shown))); want > 0 {
			negs = randomNegatives(rng, opt.NumItems, shownItems, q.History, want)
		}
		var out []int32
		for _, it := range append(slices.Clone(shownItems), negs...) {
			if !slices.Contains(proposed, it) {
				out = append(out, it)
			}
		}
		return out
	}
	items, dense, err := st.Candidates(ctx, q, extra)
	if err != nil {
		return 0, 0, nil, err
	}
	if len(items) == 0 {
		return noCandidates, dups, nil, nil
	}
	nf := len(st.FeatureNames())
	if len(dense) != len(items)*nf {
		return 0, 0, nil, fmt.Errorf("the stages gave %d feature values for %d candidates × %d features", len(dense), len(items), nf)
	}
	rowOf := make(map[int32]int, len(items))
	for k, it := range items {
		if _, ok := rowOf[it]; !ok {
			rowOf[it] = k
		}
	}
	width := max(nf, posCol+1)
	keepItems := append(shownItems, negs...)
	*r = Request{
		User: q.User, Time: q.Time, History: q.History, Items: keepItems, Target: -1, Proposed: len(shown),
		Labels: make([]float32, len(keepItems)), Dense: make([]float32, 0, len(keepItems)*width),
	}
	clicked := make([]bool, len(shown))
	if opt.PropensityWeights {
		r.Weights = make([]float32, len(keepItems))
	}
	for k, it := range keepItems {
		row := dense[rowOf[it]*nf : (rowOf[it]+1)*nf]
		r.Dense = append(r.Dense, row...)
		if width > nf {
			r.Dense = append(r.Dense, 0)
		}
		pos, w := ServePosition, 1.0
		if k < len(shown) {
			pos = shown[k].Position
			clicked[k] = shown[k].Clicked
			if p := shown[k].Propensity; p > 0 {
				w = 1 / max(p, MinPropensity)
			}
		}
		if posCol >= 0 && opt.Position {
			r.Dense[k*width+posCol] = float32(pos)
		}
		if r.Weights != nil {
			r.Weights[k] = float32(w)
		}
	}
	return built, dups, clicked, nil
}

// labelConsumed labels positive every shown item the user takes within window of the request,
// crediting the latest request that showed it before the event (a user shown an item twice and
// taking it after the second show took it from the second slate).
func labelConsumed(set *Set, byUser map[int32][]dataset.Event, window time.Duration) {
	type key struct{ user, item int32 }
	type show struct{ req, slot int }
	shows := map[key][]show{} // in time order: requests are
	for k := range set.Requests {
		r := &set.Requests[k]
		if r.User < 0 {
			continue
		}
		for i, it := range r.Items[:r.Proposed] {
			kk := key{r.User, it}
			shows[kk] = append(shows[kk], show{k, i})
		}
	}
	w := int64(window / time.Second)
	users := map[int32]bool{}
	for kk := range shows {
		users[kk.user] = true
	}
	for u := range users {
		for _, e := range byUser[u] {
			list := shows[key{u, e.Item}]
			// The latest show at or before the event.
			j := sort.Search(len(list), func(n int) bool { return set.Requests[list[n].req].Time > e.Time }) - 1
			if j < 0 {
				continue
			}
			r := &set.Requests[list[j].req]
			if e.Time-r.Time <= w && r.Labels[list[j].slot] == 0 {
				r.Labels[list[j].slot] = 1
				set.Impressions.Consumed++
			}
		}
	}
}

// normaliseWeights scales the weights so that the shown rows average 1 (the sampled negatives'
// weight of 1 is scaled alike).
func normaliseWeights(set *Set) {
	var sum float64
	var n int
	for k := range set.Requests {
		r := &set.Requests[k]
		for _, w := range r.Weights[:r.Proposed] {
			sum += float64(w)
			n++
		}
	}
	if n == 0 || sum == 0 {
		return
	}
	f := float32(float64(n) / sum)
	for k := range set.Requests {
		for i := range set.Requests[k].Weights {
			set.Requests[k].Weights[i] *= f
		}
	}
}
