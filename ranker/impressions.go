package ranker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

// ImpressionOptions configure BuildFromImpressions.
type ImpressionOptions struct {
	// Features fill the dense columns, in order. For a logged slate the candidates' Score is the
	// logging propensity and their order the shown position, so SourceFeatures gives
	// "source_score" = propensity and "source_rank" = position − 1.
	Features []FeatureProvider
	// MaxHistory keeps only the most recent MaxHistory history items in the set (0 keeps all).
	MaxHistory int
}

// impressionLine is one line of impressions.jsonl as package synth writes it.
type impressionLine struct {
	RequestID string      `json:"request_id"`
	UserID    string      `json:"user_id"`
	Timestamp int64       `json:"timestamp"`
	Shown     []shownLine `json:"shown"`
	Clicked   []string    `json:"clicked"`
}

type shownLine struct {
	ItemID     string  `json:"item_id"`
	Position   int     `json:"position"`
	Propensity float64 `json:"propensity"`
}

// BuildFromImpressionsFile is BuildFromImpressions on the file at path.
func BuildFromImpressionsFile(ctx context.Context, path string, ds *dataset.Dataset, opt ImpressionOptions) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ranker: %w", err)
	}
	defer f.Close()
	return BuildFromImpressions(ctx, f, path, ds, opt)
}

// BuildFromImpressions builds a ranking set from logged slates (impressions.jsonl lines, read
// from r; name is used in errors): one request per line, the shown items in position order as
// candidates, clicked ones labelled 1. External IDs go through ds's dictionaries; a shown item
// the data set has never heard of is dropped (counted in BuildStats.UnknownItems), an unknown
// user gets ID -1. The history is the user's events in ds.Events strictly before the request
// time. Every logged request is kept, even one without history (it was shown, and its clicks
// are real), unless none of its items is known. Requests are sorted by time (stably).
func BuildFromImpressions(ctx context.Context, r io.Reader, name string, ds *dataset.Dataset, opt ImpressionOptions) (*Set, error) {
	if opt.MaxHistory < 0 {
		return nil, fmt.Errorf("ranker: ImpressionOptions.MaxHistory = %d, want ≥ 0", opt.MaxHistory)
	}
	names, err := featureNames(opt.Features)
	if err != nil {
		return nil, err
	}
	nf := len(names)
	ul, err := groupByUser(ds.Events)
	if err != nil {
		return nil, err
	}
	s := &Set{FeatureNames: names}
	br := bufio.NewReaderSize(r, 1<<16)
	clicked := make(map[int32]bool)
	for line := 1; ; line++ {
		raw, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("ranker: %s: %w", name, rerr)
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			if line%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			var im impressionLine
			if err := json.Unmarshal(raw, &im); err != nil {
				return nil, fmt.Errorf("ranker: %s:%d: %w", name, line, err)
			}
			s.Stats.Events++
			req, ok, err := impressionRequest(ctx, &im, ds, ul, &opt, nf, &s.Stats, clicked)
			if err != nil {
				return nil, fmt.Errorf("ranker: %s:%d: %w", name, line, err)
			}
			if ok {
				s.Requests = append(s.Requests, req)
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	slices.SortStableFunc(s.Requests, func(a, b Request) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		}
		return 0
	})
	s.recount()
	return s, nil
}

func impressionRequest(ctx context.Context, im *impressionLine, ds *dataset.Dataset, ul *userLog, opt *ImpressionOptions, nf int,
	st *BuildStats, clicked map[int32]bool) (Request, bool, error) {
	var cands []candidates.Candidate
	shown := slices.Clone(im.Shown)
	slices.SortStableFunc(shown, func(a, b shownLine) int { return a.Position - b.Position })
	for _, sh := range shown {
		it, ok := ds.Items.Lookup(sh.ItemID)
		if !ok {
			st.UnknownItems++
			continue
		}
		cands = append(cands, candidates.Candidate{Item: it, Score: float32(sh.Propensity)})
	}
	if len(cands) == 0 {
		st.NoCandidates++
		return Request{}, false, nil
	}
	clear(clicked)
	for _, id := range im.Clicked {
		if it, ok := ds.Items.Lookup(id); ok {
			clicked[it] = true
		}
	}
	user := int32(-1)
	var hist []int32
	var times []int64
	if u, ok := ds.Users.Lookup(im.UserID); ok {
		user = u
		if int(u) < len(ul.items) {
			ts := ul.times[u]
			p := sort.Search(len(ts), func(k int) bool { return ts[k] >= im.Timestamp })
			hist, times = ul.items[u][:p:p], ts[:p:p]
		}
	}
	if len(hist) == 0 {
		st.NoHistory++
	}
	q := candidates.Query{User: user, History: hist, HistoryTimes: times, Time: im.Timestamp}
	req := Request{User: user, Time: im.Timestamp, Target: -1, Proposed: len(cands)}
	req.History = hist
	if opt.MaxHistory > 0 && len(hist) > opt.MaxHistory {
		req.History = hist[len(hist)-opt.MaxHistory:]
	}
	req.Items = make([]int32, len(cands))
	req.Labels = make([]float32, len(cands))
	for k, c := range cands {
		req.Items[k] = c.Item
		if clicked[c.Item] {
			req.Labels[k] = 1
		}
	}
	req.Dense = make([]float32, len(cands)*nf)
	if err := computeFeatures(ctx, opt.Features, q, cands, req.Dense, nf); err != nil {
		return Request{}, false, err
	}
	return req, true, nil
}
