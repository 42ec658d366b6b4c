package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/ranker"
)

// idMap translates between synth indices ("u7" is user 7, "i42" item 42) and a data set's
// dense IDs.
type idMap struct {
	userDense []int32 // per synth user; −1 when the data set lacks it
	itemDense []int32 // per synth item; −1 when the data set lacks it
	denseItem []int   // per dense item; −1 when it is no synth item
	denseUser []int   // per dense user; −1 when it is no synth user
}

func newIDMap(ds *dataset.Dataset, users, items int) *idMap {
	m := &idMap{}
	m.userDense, m.denseUser = translate(ds.Users, "u", users)
	m.itemDense, m.denseItem = translate(ds.Items, "i", items)
	return m
}

// translate maps the synth indices below n (named prefix + index) to dict's dense IDs and back.
func translate(dict *dataset.Dict, prefix string, n int) (toDense []int32, fromDense []int) {
	toDense, fromDense = make([]int32, n), make([]int, dict.Len())
	for d := range fromDense {
		fromDense[d] = -1
	}
	for i := range n {
		toDense[i] = -1
		if d, ok := dict.Lookup(prefix + strconv.Itoa(i)); ok {
			toDense[i], fromDense[d] = d, i
		}
	}
	return toDense, fromDense
}

// cascadePolicy serves a pipeline bundle: RecommendDense's top Candidates items with their
// explained feature rows, ordered by the re-ranker once it has been trained from impressions
// (before that, by the bundle's own final score), then turned into a slate by the explorer.
type cascadePolicy struct {
	name       string
	variant    string // the pipeline file's variant served ("" for the file itself)
	p          *pipeline.Pipeline
	ids        *idMap
	candidates int
	explore    explorer
	retrain    bool
	rr         *reranker
	log        *slog.Logger
}

func (c *cascadePolicy) Name() string { return c.name }

// Serve asks the pipeline for the user's candidates and chooses the slate among them.
func (c *cascadePolicy) Serve(ctx context.Context, req *Request) (Served, error) {
	s := req.state
	q := pipeline.Query{
		Query:   candidates.Query{User: c.ids.userDense[req.User], Time: req.Time},
		K:       c.candidates,
		Explain: true,
		Skip: func(d int32) bool {
			i := c.ids.denseItem[d]
			return i < 0 || s.seen[i]
		},
	}
	for j, i := range s.items {
		if d := c.ids.itemDense[i]; d >= 0 {
			q.History = append(q.History, d)
			q.HistoryTimes = append(q.HistoryTimes, s.times[j])
			q.HistoryValues = append(q.HistoryValues, s.values[j])
		}
	}
	res, err := c.p.RecommendDense(ctx, q)
	if err != nil {
		return Served{}, fmt.Errorf("simulate: %s: user %d: %w", c.name, req.User, err)
	}
	out := Served{Request: req, Fallback: res.Fallback || res.Degraded, Query: q.Query}
	var feats [][]float32
	var sources []map[string]int
	if res.Explain != nil {
		out.FeatureNames = res.Explain.FeatureNames
		byItem := map[int32]pipeline.ItemExplanation{}
		for _, ie := range res.Explain.Items {
			byItem[ie.Item] = ie
		}
		for _, it := range res.Items {
			ie := byItem[it.Item]
			feats = append(feats, ie.Features)
			sources = append(sources, ie.Sources)
		}
	}
	scores := make([]float64, len(res.Items))
	dense := make([]int32, len(res.Items))
	for j, it := range res.Items {
		out.Candidates = append(out.Candidates, c.ids.denseItem[it.Item])
		scores[j], dense[j] = float64(it.Score), it.Item
	}
	// The re-ranker scores only complete feature rows; a fallback answer keeps the pipeline's order.
	if c.rr.model != nil && len(feats) == len(scores) && complete(feats) {
		if scores, err = c.rr.score(&q.Query, dense, feats); err != nil {
			return Served{}, fmt.Errorf("simulate: %s: user %d: %w", c.name, req.User, err)
		}
	}
	picked, prop, err := c.explore.choose(req.Rand, scores, req.K)
	if err != nil {
		return Served{}, err
	}
	for k, j := range picked {
		slot := Slot{Item: out.Candidates[j], Position: k + 1, Score: scores[j], Propensity: prop[k]}
		if feats != nil {
			slot.Features, slot.Sources = feats[j], sources[j]
		}
		out.Slots = append(out.Slots, slot)
	}
	return out, nil
}

func complete(rows [][]float32) bool {
	for _, r := range rows {
		if r == nil {
			return false
		}
	}
	return true
}

// Learn adds the round's impressions to the re-ranker's data and, when retraining is on, fits a
// new re-ranker on every impression the policy has logged so far.
func (c *cascadePolicy) Learn(ctx context.Context, round int, served []Served) error {
	if !c.retrain {
		return nil
	}
	imps := make([]ranker.Impression, 0, len(served))
	for _, s := range served {
		imp := ranker.Impression{Query: s.Query}
		for k, slot := range s.Slots {
			imp.Shown = append(imp.Shown, ranker.Shown{Item: c.ids.itemDense[slot.Item], Position: slot.Position, Propensity: slot.Propensity, Clicked: s.Clicked[k]})
		}
		imps = append(imps, imp)
	}
	if err := c.rr.add(ctx, round, imps); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if err := c.rr.train(ctx); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	c.log.Info("re-ranker retrained from impressions", "policy", c.name, "round", round, "rows", c.rr.rows(), "click_rate", math.Round(float64(c.rr.clicks())/float64(max(1, c.rr.rows()))*1e4)/1e4)
	return nil
}
