package ranker

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// listSource proposes the items of a fixed ranking (scores descending), skipping as asked, and
// records the histories it was given.
type listSource struct {
	ranking []int32
	mu      sync.Mutex
	seen    map[int64][]int32 // request time → history
}

func (s *listSource) Recommend(_ context.Context, q candidates.Query, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	s.mu.Lock()
	if s.seen == nil {
		s.seen = make(map[int64][]int32)
	}
	s.seen[q.Time] = slices.Clone(q.History)
	s.mu.Unlock()
	dst = dst[:0]
	for k, it := range s.ranking {
		if len(dst) == n {
			break
		}
		if skip != nil && skip(it) {
			continue
		}
		dst = append(dst, candidates.Candidate{Item: it, Score: float32(100 - k)})
	}
	return dst, nil
}

const day = int64(24 * 3600)

var quiet = progress.Options{Disabled: true}

// handLog: user 0 takes 1, 2, 3, 4 on days 0, 10, 10.5, 20; user 1 takes 5 then 1 on days 1, 11.
func handLog() []dataset.Event {
	ev := func(u, i int32, t int64) dataset.Event {
		return dataset.Event{User: u, Item: i, Time: t, Value: float32(math.NaN())}
	}
	return []dataset.Event{
		ev(0, 1, 0),
		ev(1, 5, 1*day),
		ev(0, 2, 10*day),
		ev(0, 3, 10*day+day/2),
		ev(1, 1, 11*day),
		ev(0, 4, 20*day),
	}
}

func TestBuildFromLogLabelsAndHistory(t *testing.T) {
	log := handLog()
	src := &listSource{ranking: []int32{0, 1, 2, 3, 4, 5, 6, 7}}
	opt := LogOptions{Progress: quiet, Source: src, K: 5, Horizon: 24 * time.Hour, Features: []FeatureProvider{SourceFeatures{}, HistoryLength{}}}
	// The window is the last four events; user 1's day-1 event is outside it but is history.
	s, err := BuildFromLog(context.Background(), log, 2, len(log), opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := s.FeatureNames, []string{"source_score", "source_rank", "history_len_log1p"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("features %v, want %v", got, want)
	}
	if s.Stats.Events != 4 || s.Stats.Requests != 4 || s.Stats.NoHistory != 0 {
		t.Fatalf("stats %+v", s.Stats)
	}
	type want struct {
		hist, items []int32
		labels      []float32
	}
	wants := []want{
		// Day 10, user 0 takes 2; 3 follows within a day (positive), 4 ten days later (not).
		{[]int32{1}, []int32{0, 2, 3, 4, 5}, []float32{0, 1, 1, 0, 0}},
		// Day 10.5, user 0 takes 3; nothing within a day after it.
		{[]int32{1, 2}, []int32{0, 3, 4, 5, 6}, []float32{0, 1, 0, 0, 0}},
		// Day 11, user 1 takes 1.
		{[]int32{5}, []int32{0, 1, 2, 3, 4}, []float32{0, 1, 0, 0, 0}},
		// Day 20, user 0 takes 4.
		{[]int32{1, 2, 3}, []int32{0, 4, 5, 6, 7}, []float32{0, 1, 0, 0, 0}},
	}
	for k, w := range wants {
		r := &s.Requests[k]
		if !reflect.DeepEqual(r.History, w.hist) || !reflect.DeepEqual(r.Items, w.items) || !reflect.DeepEqual(r.Labels, w.labels) {
			t.Errorf("request %d: history %v items %v labels %v, want %v %v %v", k, r.History, r.Items, r.Labels, w.hist, w.items, w.labels)
		}
		if r.Target != log[k+2].Item || r.Time != log[k+2].Time || r.User != log[k+2].User {
			t.Errorf("request %d: target %d at %d for %d, want event %+v", k, r.Target, r.Time, r.User, log[k+2])
		}
		// No leakage: the history holds neither the target nor anything at or after its event.
		if slices.Contains(r.History, r.Target) {
			t.Errorf("request %d: the target %d is in the history %v", k, r.Target, r.History)
		}
		if got := src.seen[r.Time]; !reflect.DeepEqual(got, w.hist) {
			t.Errorf("request %d: the source saw history %v, want %v", k, got, w.hist)
		}
		for i := range r.Items {
			row := r.Row(i, 3)
			if row[0] != float32(100-r.Items[i]) || row[1] != float32(i) || row[2] != float32(math.Log1p(float64(len(w.hist)))) {
				t.Errorf("request %d candidate %d: features %v", k, i, row)
			}
		}
	}
	if s.Stats.WithTarget != 4 || s.Stats.WithPositive != 4 {
		t.Errorf("stats %+v", s.Stats)
	}
}

func TestBuildFromLogKeepsMissedTargetsAndDropsNoHistory(t *testing.T) {
	log := handLog()
	// Item 4 is never proposed, so the day-20 request has no positive; it stays in the set.
	src := &listSource{ranking: []int32{0, 1, 2, 3, 5, 6}}
	s, err := BuildFromLog(context.Background(), log, 0, len(log), LogOptions{Progress: quiet, Source: src, K: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Events 0 and 1 are their users' first: no history.
	if s.Stats.NoHistory != 2 || s.Stats.Requests != 4 {
		t.Fatalf("stats %+v", s.Stats)
	}
	last := s.Requests[3]
	if last.Target != 4 || last.HasPositive() {
		t.Fatalf("last request %+v: want target 4 without a positive", last)
	}
	if got := s.WithPositives().Stats.Requests; got != 3 {
		t.Fatalf("%d requests with a positive, want 3", got)
	}
	// A source that proposes nothing leaves requests out unless there is a fallback.
	empty := &listSource{}
	s, err = BuildFromLog(context.Background(), log, 0, len(log), LogOptions{Progress: quiet, Source: empty, K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if s.Stats.NoCandidates != 4 || len(s.Requests) != 0 {
		t.Fatalf("stats %+v", s.Stats)
	}
	s, err = BuildFromLog(context.Background(), log, 0, len(log), LogOptions{Progress: quiet, Source: empty, Fallback: src, K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if s.Stats.NoCandidates != 0 || len(s.Requests) != 4 {
		t.Fatalf("stats %+v", s.Stats)
	}
}

func TestBuildFromLogMaxHistory(t *testing.T) {
	log := handLog()
	src := &listSource{ranking: []int32{0, 1, 2, 3, 4, 5}}
	s, err := BuildFromLog(context.Background(), log, 5, 6, LogOptions{Progress: quiet, Source: src, K: 2, MaxHistory: 2, Features: []FeatureProvider{HistoryLength{}}})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Requests[0]
	if !reflect.DeepEqual(r.History, []int32{2, 3}) {
		t.Fatalf("history %v, want the last two items [2 3]", r.History)
	}
	// The source and the features saw all three.
	if got := src.seen[r.Time]; len(got) != 3 || r.Dense[0] != float32(math.Log1p(3)) {
		t.Fatalf("source saw %v, feature %v", got, r.Dense[0])
	}
}

func TestBuildFromLogRandomNegatives(t *testing.T) {
	// A longer log: 20 users, each taking 6 of 200 items.
	var log []dataset.Event
	for step := range 6 {
		for u := range 20 {
			log = append(log, dataset.Event{User: int32(u), Item: int32((u*7 + step*13) % 200), Time: int64(step*100 + u)})
		}
	}
	ranking := make([]int32, 200)
	for i := range ranking {
		ranking[i] = int32(i)
	}
	build := func(workers int) *Set {
		s, err := BuildFromLog(context.Background(), log, 40, len(log), LogOptions{
			Source: &listSource{ranking: ranking}, K: 10, RandomNegatives: 0.5, NumItems: 200, Seed: 3, Workers: workers,
			Progress: quiet,
			Features: []FeatureProvider{SourceFeatures{}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := build(1)
	for k, r := range s.Requests {
		if r.Proposed != 10 || len(r.Items) != 15 {
			t.Fatalf("request %d: %d proposed of %d", k, r.Proposed, len(r.Items))
		}
		seen := map[int32]bool{}
		for _, h := range r.History {
			seen[h] = true
		}
		for i, it := range r.Items {
			if seen[it] {
				t.Fatalf("request %d: item %d is repeated or seen", k, it)
			}
			seen[it] = true
			if i >= r.Proposed && r.Row(i, 2)[1] != float32(i) {
				t.Fatalf("request %d: random negative %d has rank %v", k, i, r.Row(i, 2)[1])
			}
		}
	}
	if !reflect.DeepEqual(s.Requests, build(3).Requests) {
		t.Fatal("the set depends on the number of workers")
	}
}

func TestBuildFromLogErrors(t *testing.T) {
	log := handLog()
	src := &listSource{ranking: []int32{0, 1}}
	cases := []struct {
		name     string
		log      []dataset.Event
		from, to int
		opt      LogOptions
		want     string
	}{
		{"no source", log, 0, 1, LogOptions{Progress: quiet, K: 1}, "Source"},
		{"k", log, 0, 1, LogOptions{Progress: quiet, Source: src}, "K"},
		{"window", log, 2, 9, LogOptions{Progress: quiet, Source: src, K: 1}, "window"},
		{"order", []dataset.Event{{Time: 2}, {Time: 1}}, 0, 2, LogOptions{Progress: quiet, Source: src, K: 1}, "time order"},
		{"random without catalog", log, 0, 1, LogOptions{Progress: quiet, Source: src, K: 1, RandomNegatives: 1}, "NumItems"},
		{"repeated feature", log, 0, 1, LogOptions{Progress: quiet, Source: src, K: 1, Features: []FeatureProvider{HistoryLength{}, HistoryLength{}}}, "twice"},
	}
	for _, c := range cases {
		_, err := BuildFromLog(context.Background(), c.log, c.from, c.to, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := BuildFromLog(ctx, log, 0, len(log), LogOptions{Progress: quiet, Source: src, K: 1}); err == nil {
		t.Error("a cancelled context gave no error")
	}
}

func ExampleBuildFromLog() {
	log := handLog()
	src := &listSource{ranking: []int32{0, 1, 2, 3, 4, 5}}
	s, _ := BuildFromLog(context.Background(), log, 2, len(log), LogOptions{Progress: quiet, Source: src, K: 3})
	for _, r := range s.Requests {
		fmt.Println(r.History, r.Items, r.Labels)
	}
	// Output:
	// [1] [0 2 3] [0 1 0]
	// [1 2] [0 3 4] [0 1 0]
	// [5] [0 1 2] [0 1 0]
	// [1 2 3] [0 4 5] [0 1 0]
}
