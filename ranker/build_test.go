package ranker

import (
	"context"
	"errors"
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
)

// listStages propose the first k items of a fixed ranking that are not in the history, with
// three features per candidate: 100 − the item's place in the ranking, the candidate's position
// in the list and the history's length. They record the queries they were given.
type listStages struct {
	ranking []int32
	k       int
	empty   map[int32]bool  // users for whom nothing is proposed
	fail    map[int32]error // users whose requests fail
	badRows bool            // return one feature value too few

	mu      sync.Mutex
	queries map[[2]int64]candidates.Query // by request time and history length
}

func (s *listStages) FeatureNames() []string { return []string{"score", "position", "history_len"} }

func (s *listStages) Candidates(_ context.Context, q candidates.Query, extra func([]int32) []int32) ([]int32, []float32, error) {
	s.mu.Lock()
	if s.queries == nil {
		s.queries = map[[2]int64]candidates.Query{}
	}
	s.queries[[2]int64{q.Time, int64(len(q.History))}] = q
	s.mu.Unlock()
	if err := s.fail[q.User]; err != nil {
		return nil, nil, err
	}
	if s.empty[q.User] {
		return nil, nil, nil
	}
	var items []int32
	for _, it := range s.ranking {
		if len(items) < s.k && !slices.Contains(q.History, it) {
			items = append(items, it)
		}
	}
	if extra != nil && len(items) > 0 {
		items = append(items, extra(items)...)
	}
	var dense []float32
	for i, it := range items {
		dense = append(dense, float32(100-slices.Index(s.ranking, it)), float32(i), float32(len(q.History)))
	}
	if s.badRows {
		dense = dense[1:]
	}
	return items, dense, nil
}

const day = int64(24 * 3600)

// handSplit: the catalog is items 0-5. In train, user 0 takes 1 (day 0), user 1 takes 5 (day 1),
// user 9 takes 0 (day 3). The window (test) is below, in time order.
func handSplit() dataset.Split {
	ev := func(u, i int32, t int64) dataset.Event {
		return dataset.Event{User: u, Item: i, Time: t, Value: float32(i) + 0.5}
	}
	return dataset.Split{
		Train: []dataset.Event{ev(0, 1, 0), ev(1, 5, 1*day), ev(9, 0, 3*day)},
		Test: []dataset.Event{
			ev(0, 2, 10*day),
			ev(0, 3, 10*day+day/2),
			ev(1, 5, 11*day), // taken again: the stages never propose a seen item
			ev(4, 7, 12*day), // no history
			ev(4, 1, 13*day), // a history without a catalog item
			ev(9, 1, 14*day), // nothing proposed (listStages.empty)
			ev(0, 4, 20*day),
			ev(0, 5, 20*day), // at the same instant as the one before
			ev(2, 0, 21*day), // no history
		},
		TrainItems: 6,
	}
}

func handStages() *listStages {
	return &listStages{ranking: []int32{0, 1, 2, 3, 4, 5}, k: 3, empty: map[int32]bool{9: true}}
}

func TestBuildRequestsAndLabels(t *testing.T) {
	s := handSplit()
	type want struct {
		event       int // index in s.Test
		hist, items []int32
		labels      []float32
	}
	cases := []struct {
		name    string
		horizon time.Duration
		wants   []want
	}{
		{"horizon 12h", 12 * time.Hour, []want{
			// Day 10, user 0 takes 2; 3 follows exactly 12 h later: the horizon includes it.
			{0, []int32{1}, []int32{0, 2, 3}, []float32{0, 1, 1}},
			{1, []int32{1, 2}, []int32{0, 3, 4}, []float32{0, 1, 0}},
			// The target 5 is in the history, so it is not proposed: kept without a positive.
			{2, []int32{5}, []int32{0, 1, 2}, []float32{0, 0, 0}},
			// Day 20: 4 and 5 are taken at the same instant; each labels the other too.
			{6, []int32{1, 2, 3}, []int32{0, 4, 5}, []float32{0, 1, 1}},
			{7, []int32{1, 2, 3, 4}, []int32{0, 5}, []float32{0, 1}},
		}},
		{"horizon just short", 12*time.Hour - time.Second, []want{
			{0, []int32{1}, []int32{0, 2, 3}, []float32{0, 1, 0}},
			{1, []int32{1, 2}, []int32{0, 3, 4}, []float32{0, 1, 0}},
			{2, []int32{5}, []int32{0, 1, 2}, []float32{0, 0, 0}},
			{6, []int32{1, 2, 3}, []int32{0, 4, 5}, []float32{0, 1, 1}},
			{7, []int32{1, 2, 3, 4}, []int32{0, 5}, []float32{0, 1}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := handStages()
			set, err := Build(context.Background(), s, st, BuildOptions{Horizon: c.horizon, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := set.Validate(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(set.FeatureNames, st.FeatureNames()) {
				t.Fatalf("features %v", set.FeatureNames)
			}
			wantStats := BuildStats{Events: 9, NoHistory: 3, NoCandidates: 1, Requests: 5, WithTarget: 4, WithPositive: 4}
			if set.Stats != wantStats {
				t.Fatalf("stats %+v, want %+v", set.Stats, wantStats)
			}
			for k, w := range c.wants {
				r, e := &set.Requests[k], s.Test[w.event]
				if r.User != e.User || r.Time != e.Time || r.Target != e.Item || r.Proposed != len(w.items) {
					t.Errorf("request %d: user %d at %d, target %d, %d proposed; want event %+v", k, r.User, r.Time, r.Target, r.Proposed, e)
				}
				if !reflect.DeepEqual(r.History, w.hist) || !reflect.DeepEqual(r.Items, w.items) || !reflect.DeepEqual(r.Labels, w.labels) {
					t.Errorf("request %d: history %v items %v labels %v, want %v %v %v", k, r.History, r.Items, r.Labels, w.hist, w.items, w.labels)
				}
				// The stages saw the history with its times and ratings (earlier events at the
				// same instant count as history, as in replay-v1).
				q := st.queries[[2]int64{r.Time, int64(len(w.hist))}]
				if !reflect.DeepEqual(q.History, w.hist) || len(q.HistoryTimes) != len(w.hist) || len(q.HistoryValues) != len(w.hist) {
					t.Errorf("request %d: the stages saw %+v", k, q)
				}
				for j, it := range w.hist {
					if q.HistoryValues[j] != float32(it)+0.5 || q.HistoryTimes[j] > r.Time {
						t.Errorf("request %d: history %d has time %d and value %v", k, j, q.HistoryTimes[j], q.HistoryValues[j])
					}
				}
				for i := range r.Items {
					if got, want := r.Row(i, 3), []float32{float32(100 - r.Items[i]), float32(i), float32(len(w.hist))}; !reflect.DeepEqual(got, want) {
						t.Errorf("request %d candidate %d: features %v, want %v", k, i, got, want)
					}
				}
			}
		})
	}
}

// TestBuildPositives: with positive types, requests are built at their events only and only their
// items are labelled, while every event stays in the history.
func TestBuildPositives(t *testing.T) {
	const view, buy = 0, 1
	s := handSplit()
	for i := range s.Test {
		s.Test[i].Type = buy
	}
	s.Test[0].Type, s.Test[7].Type = view, view // user 0 views 2 (day 10) and 5 (day 20)
	cases := []struct {
		name      string
		positives dataset.TypeSet
		events    []int // the requests' events (index in s.Test)
		labels    [][]float32
	}{
		{"every type", nil, []int{0, 1, 2, 6, 7}, [][]float32{{0, 1, 1}, {0, 1, 0}, {0, 0, 0}, {0, 1, 1}, {0, 1}}},
		{"buy", dataset.TypeSet{view: false, buy: true}, []int{1, 2, 6}, [][]float32{{0, 1, 0}, {0, 0, 0}, {0, 1, 0}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, err := Build(context.Background(), s, handStages(), BuildOptions{Horizon: 12 * time.Hour, Positives: c.positives, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Requests) != len(c.events) {
				t.Fatalf("%d requests, want %d", len(set.Requests), len(c.events))
			}
			for k, i := range c.events {
				r, e := set.Requests[k], s.Test[i]
				if r.Time != e.Time || r.Target != e.Item || !reflect.DeepEqual(r.Labels, c.labels[k]) {
					t.Errorf("request %d: target %d at %d, labels %v; want event %d (%+v), labels %v", k, r.Target, r.Time, r.Labels, i, e, c.labels[k])
				}
			}
			// The view of 2 at day 10 is history of the buy of 3 after it.
			if r := set.Requests[slices.Index(c.events, 1)]; !slices.Contains(r.History, 2) {
				t.Errorf("history %v lacks the viewed item", r.History)
			}
		})
	}
}

// TestBuildWorkers: without random negatives the set does not depend on the number of workers.
func TestBuildWorkers(t *testing.T) {
	want, err := Build(context.Background(), handSplit(), handStages(), BuildOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{2, 3, 20, 0} {
		got, err := Build(context.Background(), handSplit(), handStages(), BuildOptions{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d workers built another set", w)
		}
	}
}

func TestBuildRandomNegatives(t *testing.T) {
	// 20 users, each taking 6 of 200 items; the window is the last four steps.
	var s dataset.Split
	s.TrainItems = 200
	for step := range 6 {
		for u := range 20 {
			e := dataset.Event{User: int32(u), Item: int32((u*7 + step*13) % 200), Time: int64(step*100 + u)}
			if step < 2 {
				s.Train = append(s.Train, e)
			} else {
				s.Test = append(s.Test, e)
			}
		}
	}
	ranking := make([]int32, 200)
	for i := range ranking {
		ranking[i] = int32(i)
	}
	cases := []struct {
		share     float64
		negatives int
		want      int // random negatives per request
	}{
		{0.5, 0, 0}, // ⌊0.5·min(10, 1)⌋
		{2, 0, 2},
		{0.5, 100, 5}, // ⌊0.5·min(10, 100)⌋
		{1, 3, 3},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("share=%v,negatives=%d", c.share, c.negatives), func(t *testing.T) {
			build := func(seed uint64, workers int) *Set {
				opt := BuildOptions{RandomNegatives: c.share, Negatives: c.negatives, Seed: seed, Workers: workers}
				set, err := Build(context.Background(), s, &listStages{ranking: ranking, k: 10}, opt)
				if err != nil {
					t.Fatal(err)
				}
				return set
			}
			set := build(3, 2)
			if len(set.Requests) != len(s.Test) {
				t.Fatalf("%d requests of %d events", len(set.Requests), len(s.Test))
			}
			for k, r := range set.Requests {
				if r.Proposed != 10 || len(r.Items) != 10+c.want {
					t.Fatalf("request %d: %d proposed of %d", k, r.Proposed, len(r.Items))
				}
				seen := map[int32]bool{}
				for _, h := range r.History {
					seen[h] = true
				}
				for i, it := range r.Items {
					if seen[it] || it < 0 || it >= 200 {
						t.Fatalf("request %d: item %d is repeated, seen or outside the catalog", k, it)
					}
					seen[it] = true
					if got := r.Row(i, 3)[1]; got != float32(i) {
						t.Fatalf("request %d: candidate %d has the features of position %v", k, i, got)
					}
				}
			}
			if !reflect.DeepEqual(set, build(3, 2)) {
				t.Fatal("the same seed and workers built another set")
			}
			if c.want > 0 && reflect.DeepEqual(set, build(4, 2)) {
				t.Fatal("another seed drew the same negatives")
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		st   *listStages
		is   error
		want string
	}{
		{"stage error", context.Background(), &listStages{ranking: []int32{0, 1}, k: 2, fail: map[int32]error{1: boom}}, boom, "user 1 at 950400"},
		{"bad feature rows", context.Background(), &listStages{ranking: []int32{0, 1}, k: 2, badRows: true}, nil, "2 feature values for 1 candidates × 3 features"},
		{"cancelled", cancelled, handStages(), context.Canceled, "ranker:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Build(c.ctx, handSplit(), c.st, BuildOptions{Workers: 1})
			if err == nil || !strings.Contains(err.Error(), c.want) || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("error %v, want one containing %q (wrapping %v)", err, c.want, c.is)
			}
		})
	}
	for _, opt := range []BuildOptions{{Horizon: -time.Second}, {MaxRequests: -1}, {RandomNegatives: math.NaN()}, {RandomNegatives: math.Inf(1)}} {
		if _, err := Build(context.Background(), handSplit(), handStages(), opt); err == nil || !strings.Contains(err.Error(), "BuildOptions") {
			t.Errorf("options %+v: error %v", opt, err)
		}
	}
}

func TestPickSteps(t *testing.T) {
	// User 1 has 10 steps, user 2 has 3, user 3 has 1, interleaved in time.
	var steps []rankStep
	pos := map[int32]int{}
	for _, u := range []int32{1, 2, 1, 1, 3, 1, 2, 1, 1, 1, 2, 1, 1, 1} {
		steps = append(steps, rankStep{u, pos[u]})
		pos[u]++
	}
	cases := []struct {
		perUser, max int
		want         map[int32]int // steps kept per user
		total        int
	}{
		{0, 0, map[int32]int{1: 10, 2: 3, 3: 1}, 14},
		{4, 0, map[int32]int{1: 4, 2: 3, 3: 1}, 8},
		{1, 0, map[int32]int{1: 1, 2: 1, 3: 1}, 3},
		{0, 7, nil, 7},
		{4, 4, nil, 4},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("perUser=%d,max=%d", c.perUser, c.max), func(t *testing.T) {
			got := pickSteps(steps, c.perUser, c.max)
			if len(got) != c.total {
				t.Fatalf("%d steps kept, want %d", len(got), c.total)
			}
			per := map[int32][]int{}
			for i, st := range got {
				per[st.user] = append(per[st.user], st.pos)
				if i > 0 && slices.Index(steps, st) <= slices.Index(steps, got[i-1]) {
					t.Fatalf("time order lost: %v", got)
				}
			}
			for u, n := range c.want {
				if len(per[u]) != n {
					t.Errorf("user %d: %d steps kept, want %d (%v)", u, len(per[u]), n, per[u])
				}
			}
			// A capped user's picks spread over the user's steps rather than bunching at one end.
			if c.perUser == 4 && c.max == 0 {
				p := per[1]
				if p[0] > 2 || p[len(p)-1] < 7 {
					t.Errorf("user 1 picks %v are not spread over 0..9", p)
				}
			}
		})
	}
}

func ExampleBuild() {
	set, _ := Build(context.Background(), handSplit(), handStages(), BuildOptions{Horizon: 24 * time.Hour})
	for _, r := range set.Requests {
		fmt.Println(r.History, r.Items, r.Labels)
	}
	fmt.Printf("%+v\n", set.Stats)
	// Output:
	// [1] [0 2 3] [0 1 1]
	// [1 2] [0 3 4] [0 1 0]
	// [5] [0 1 2] [0 0 0]
	// [1 2 3] [0 4 5] [0 1 1]
	// [1 2 3 4] [0 5] [0 1]
	// {Events:9 NoHistory:3 NoCandidates:1 Requests:5 WithTarget:4 WithPositive:4}
}
