package replay

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// fixed always proposes the items in order, minus skipped ones.
type fixed struct{ order []int32 }

func (f fixed) Recommend(_ context.Context, _ candidates.Query, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	dst = dst[:0]
	for i, it := range f.order {
		if len(dst) == n {
			break
		}
		if skip != nil && skip(it) {
			continue
		}
		dst = append(dst, candidates.Candidate{Item: it, Score: float32(-i)})
	}
	return dst, nil
}

func ev(u, i int32, t int64) dataset.Event {
	return dataset.Event{User: u, Item: i, Time: t, Value: float32(math.NaN())}
}

// tiny is a hand-checked world: items 0..4 in train (counts 3,2,1,1,1), item 5 only in test.
func tiny() dataset.Split {
	train := []dataset.Event{
		ev(0, 0, 1), ev(0, 1, 2), ev(1, 0, 3), ev(1, 2, 4), ev(2, 0, 5), ev(2, 1, 6), ev(2, 3, 7), ev(0, 4, 8),
	}
	test := []dataset.Event{
		ev(0, 2, 10), // warm; history {0,1,4}; list 2,3 → rank 1
		ev(3, 0, 11), // new user, empty history → no_history
		ev(3, 3, 12), // cold; history {0}; list 1,2,3,4 → rank 3
		ev(1, 5, 13), // warm; target outside train catalog → miss
		ev(3, 5, 14), // cold; history {0,3}; miss
	}
	return dataset.Split{Cut: 10, Train: train, Test: test, TrainItems: 5, TrainUsers: 3}
}

func TestRunHandComputed(t *testing.T) {
	split := tiny()
	rec := Source("fixed", fixed{order: []int32{0, 1, 2, 3, 4}}, 500)
	rep, err := Run(context.Background(), split, rec, Options{Dataset: "tiny", Ks: []int{1, 10}, Ns: []int{1, 2}, Progress: progress.Options{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TestSteps != 5 || rep.NoHistorySteps != 1 || rep.WarmSteps != 2 || rep.ColdSteps != 2 || rep.Users != 3 || rep.WarmUsers != 2 {
		t.Fatalf("counts %+v", rep)
	}
	// Ranks: 1, 3, miss, miss over 4 counted steps.
	want := map[string]float64{
		"hr@1": 0.25, "hr@10": 0.5,
		"ndcg@1": 0.25, "ndcg@10": (1 + 1/math.Log2(4)) / 4,
		"mrr@1": 0.25, "mrr@10": (1 + 1.0/3) / 4,
	}
	for k, v := range want {
		if math.Abs(rep.Metrics[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, rep.Metrics[k], v)
		}
	}
	if got := rep.Slices["warm"]["hr@10"]; got != 0.5 {
		t.Errorf("warm hr@10 = %v", got)
	}
	if got := rep.Slices["cold"]["ndcg@10"]; math.Abs(got-0.25) > 1e-12 {
		t.Errorf("cold ndcg@10 = %v", got)
	}
	if got := rep.Stages["fixed"]["recall@2"]; got != 0.25 {
		t.Errorf("recall@2 = %v", got)
	}
	// Top-10 lists: {2,3}, {1,2,3,4}, {1,3,4}, {1,2,4}: every train item but 0 appears.
	if got := rep.Metrics["coverage@10"]; got != 0.8 {
		t.Errorf("coverage@10 = %v", got)
	}
	// Popularity order 0,1,2,3,4 (ties by ID) → percentiles 1, .75, .5, .25, 0.
	wantPop := ((0.5+0.25)/2 + (0.75+0.5+0.25+0)/4 + (0.75+0.25+0)/3 + (0.75+0.5+0)/3) / 4
	if got := rep.Metrics["popularity@10"]; math.Abs(got-wantPop) > 1e-12 {
		t.Errorf("popularity@10 = %v, want %v", got, wantPop)
	}
	// The JSON carries the protocol's keys.
	b, _ := json.Marshal(rep)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"protocol", "dataset", "train_events", "test_steps", "no_history_steps", "users", "warm_users", "warm_steps", "cold_steps", "metrics", "slices", "stages", "latency_ms"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
}

// TestRunTypeSlices: with event type names, each type with counted steps gets its own slice.
func TestRunTypeSlices(t *testing.T) {
	const view, buy = 0, 1
	split := tiny()
	for i, typ := range []uint8{buy, buy, view, buy, view} { // ranks: 1, no history, 3, miss, miss
		split.Test[i].Type = typ
	}
	rec := Source("fixed", fixed{order: []int32{0, 1, 2, 3, 4}}, 500)
	cases := []struct {
		name  string
		types []string
		want  map[string]map[string]float64
	}{
		{"no names", nil, map[string]map[string]float64{}},
		{"names", []string{"view", "buy", "cart"}, map[string]map[string]float64{
			"event:buy":  {"hr@10": 0.5, "ndcg@10": 0.5},
			"event:view": {"hr@10": 0.5, "ndcg@10": 0.25},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Run(context.Background(), split, rec, Options{EventTypes: c.types, Progress: progress.Options{Disabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]map[string]float64{}
			for name, m := range rep.Slices {
				if name != "warm" && name != "cold" {
					got[name] = map[string]float64{"hr@10": m["hr@10"], "ndcg@10": m["ndcg@10"]}
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("slices %v, want %v", got, c.want)
			}
			var table strings.Builder
			if err := WriteTable(&table, []string{"a"}, []*Report{rep}); err != nil {
				t.Fatal(err)
			}
			if has := strings.Contains(table.String(), "event:buy ndcg@10"); has != (c.types != nil) {
				t.Fatalf("table:\n%s", table.String())
			}
		})
	}
}

// recording remembers the histories it was asked about.
type recording struct {
	fixed
	calls *[][]int32
}

func (r recording) Recommend(ctx context.Context, q candidates.Query, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	*r.calls = append(*r.calls, append([]int32(nil), q.History...))
	return r.fixed.Recommend(ctx, q, n, skip, dst)
}

// TestRecommenderOwnsUnknownHistories: replay sends every step with a history to the recommender,
// one whose history holds no train item included; the fallback policy is the recommender's.
func TestRecommenderOwnsUnknownHistories(t *testing.T) {
	split := dataset.Split{
		Train: []dataset.Event{ev(0, 0, 1), ev(0, 1, 2)},
		Test:  []dataset.Event{ev(1, 7, 5), ev(1, 0, 6), ev(1, 1, 7)},
		// item 7 is new: user 1's history {7} has no train item.
		TrainItems: 2,
	}
	var calls [][]int32
	rec := Source("main", recording{fixed{[]int32{1, 0}}, &calls}, 10)
	rep, err := Run(context.Background(), split, rec, Options{Workers: 1, Progress: progress.Options{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]int32{{7}, {7, 0}}; !reflect.DeepEqual(calls, want) {
		t.Fatalf("calls %v, want %v", calls, want)
	}
	if rep.NoHistorySteps != 1 || rep.TestSteps != 3 {
		t.Fatalf("steps: %d without history of %d", rep.NoHistorySteps, rep.TestSteps)
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	var train, test []dataset.Event
	for u := int32(0); u < 50; u++ {
		for k := int32(0); k < 6; k++ {
			train = append(train, ev(u, (u*7+k*3)%40, int64(k)))
			test = append(test, ev(u, (u*5+k*11)%40, int64(100+k)))
		}
	}
	split := dataset.Split{Train: train, Test: test, TrainItems: 40}
	order := make([]int32, 40)
	for i := range order {
		order[i] = int32((i * 17) % 40)
	}
	var reports []*Report
	for _, w := range []int{1, 2, 7} {
		rep, err := Run(context.Background(), split, Source("f", fixed{order}, 20), Options{Workers: w, Ks: []int{10}, Ns: []int{10}, Progress: progress.Options{Disabled: true}})
		if err != nil {
			t.Fatal(err)
		}
		rep.LatencyMS, rep.Seconds, rep.StepsPerSecond = nil, 0, 0
		reports = append(reports, rep)
	}
	for _, r := range reports[1:] {
		if !reflect.DeepEqual(r, reports[0]) {
			t.Fatalf("reports differ across worker counts:\n%+v\n%+v", r, reports[0])
		}
	}
}
