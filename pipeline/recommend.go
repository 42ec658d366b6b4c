package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Request is a recommendation request in external IDs: what a Go program embedding Cascade sends
// to Recommend. The pipeline keeps no per-user state, so the request carries the history.
type Request struct {
	// UserID is the user's external ID ("" for an anonymous request). A user of the data set the
	// pipeline was opened with keeps their dense ID, which user-aware models may read.
	UserID string
	// History is the user's events, oldest first. Items unknown to the catalog are ignored (and
	// reported in Response.Warnings).
	History []Event
	// Exclude lists items never to return, besides the file's filter and the seen items.
	Exclude []string
	// K is the number of items wanted; 0 or more than the file's final.k means final.k.
	K int
	// Time is the request's Unix time in seconds, which time features are computed at; 0 means
	// the last history event's time, or now when there is no history. Replaying a historical log,
	// set it: a wall clock far from the training data puts recency features outside training.
	Time int64
	// Explain asks for each item's source ranks, ranker scores and feature values.
	Explain bool
}

// Event is one history event: an item the user took, when, and an optional explicit rating (0 or
// NaN: none).
type Event struct {
	ItemID string
	Time   int64
	Value  float32
}

// Response is Recommend's answer in external IDs.
type Response struct {
	Items  []Item
	Stages []StageInfo
	// Fallback, Degraded and Reason are Result's: the history held no known item, or the personal
	// path failed or ran out of time.
	Fallback, Degraded bool
	Reason             string
	Warnings           []string
	// FeatureNames are the keys of Item.Features (set with Request.Explain).
	FeatureNames []string
}

// Item is one recommended item.
type Item struct {
	ItemID string
	Score  float32
	Rank   int // 1-based
	// With Request.Explain: the 1-based rank in each source's list, each ranker's score, and the
	// feature values the rankers read.
	Sources      map[string]int
	RankerScores map[string]float32
	Features     map[string]float32
}

// StageInfo is what one stage did (StageResult without the dense lists).
type StageInfo struct {
	Name     string
	In, Out  int
	Duration time.Duration
	Fallback bool
	Err      string
}

// ErrNoCatalog is returned by Recommend when the pipeline was opened without its data set, so
// external IDs cannot be resolved.
var ErrNoCatalog = errors.New("the pipeline was opened without its data set: external IDs need its catalog (pass it to Open)")

// Recommend answers req: external IDs are resolved against the living catalog (the data set given
// to Open and the items added since), and the request runs through RecommendDense, the one request path. The only error is a
// pipeline opened without its data set or ctx being canceled.
func (p *Pipeline) Recommend(ctx context.Context, req Request) (Response, error) {
	cat := p.catalog.Load()
	if cat == nil {
		return Response{}, ErrNoCatalog
	}
	var resp Response
	q := Query{K: req.K, Explain: req.Explain}
	q.User = -1
	if u, ok := p.ds.Users.Lookup(req.UserID); ok && req.UserID != "" {
		q.User = u
	}
	unknown := 0
	for _, e := range req.History {
		it, ok := cat.Lookup(e.ItemID)
		if !ok {
			unknown++
			continue
		}
		v := e.Value
		if v == 0 {
			v = float32(math.NaN())
		}
		q.History = append(q.History, it)
		q.HistoryTimes = append(q.HistoryTimes, e.Time)
		q.HistoryValues = append(q.HistoryValues, v)
	}
	if unknown > 0 {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("%d history item(s) unknown to the catalog were ignored", unknown))
	}
	q.Time = req.Time
	if q.Time == 0 {
		if n := len(q.HistoryTimes); n > 0 {
			q.Time = q.HistoryTimes[n-1]
		} else {
			q.Time = time.Now().Unix()
		}
	}
	if len(req.Exclude) > 0 {
		skip := make(map[int32]bool, len(req.Exclude))
		for _, id := range req.Exclude {
			if it, ok := cat.Lookup(id); ok {
				skip[it] = true
			}
		}
		q.Skip = func(it int32) bool { return skip[it] }
	}
	res, err := p.RecommendDense(ctx, q)
	if err != nil {
		return Response{}, err
	}
	resp.Fallback, resp.Degraded, resp.Reason = res.Fallback, res.Degraded, res.Reason
	resp.Items = make([]Item, len(res.Items))
	pos := make(map[int32]int, len(res.Items))
	for i, c := range res.Items {
		resp.Items[i] = Item{ItemID: cat.String(c.Item), Score: c.Score, Rank: i + 1}
		pos[c.Item] = i
	}
	for _, st := range res.Stages {
		resp.Stages = append(resp.Stages, StageInfo{Name: st.Name, In: st.In, Out: st.Out, Duration: st.Duration, Fallback: st.Fallback, Err: st.Err})
	}
	if ex := res.Explain; ex != nil {
		resp.FeatureNames = ex.FeatureNames
		for _, ie := range ex.Items {
			i, ok := pos[ie.Item]
			if !ok {
				continue
			}
			it := &resp.Items[i]
			it.Sources, it.RankerScores = ie.Sources, ie.RankerScores
			it.Features = make(map[string]float32, len(ie.Features))
			for j, v := range ie.Features {
				it.Features[ex.FeatureNames[j]] = v
			}
		}
	}
	return resp, nil
}
