package pipeline

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
)

// listSource proposes a fixed list (best first), leaving out what skip drops; err makes it fail,
// and slow makes it wait for its context to end.
type listSource struct {
	items []int32
	err   error
	slow  bool
}

func (s listSource) Recommend(ctx context.Context, q candidates.Query, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	dst = dst[:0]
	if s.slow {
		<-ctx.Done()
		return dst, ctx.Err()
	}
	if s.err != nil {
		return dst, s.err
	}
	for i, it := range s.items {
		if len(dst) == n {
			break
		}
		if skip == nil || !skip(it) {
			dst = append(dst, candidates.Candidate{Item: it, Score: float32(len(s.items) - i)})
		}
	}
	return dst, nil
}

func (listSource) Save(string) (string, error) { return "", errors.New("not saved") }

func ids(cs []candidates.Candidate) []int32 {
	out := make([]int32, len(cs))
	for i, c := range cs {
		out[i] = c.Item
	}
	return out
}

// stubPipeline assembles sources a and b (k 10 each) and the fallback fb over a catalog of 20
// items.
func stubPipeline(t *testing.T, merge string, budgetMS float64, a, b, fb Model) *Pipeline {
	t.Helper()
	yes := true
	cfg := &Config{
		Name:     "stub",
		Fallback: "fb",
		Retrieve: RetrieveConfig{Merge: merge, BudgetMS: budgetMS, Sources: []SourceConfig{{Model: "a", K: 10}, {Model: "b", K: 10}}},
		Final:    FinalConfig{K: 6},
	}
	cfg.Filter.ExcludeSeen = &yes
	p, err := assemble(cfg, map[string]Model{"a": a, "b": b, "fb": fb}, nil, nil, nil, 20)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRequestPath(t *testing.T) {
	a := listSource{items: []int32{1, 2, 3}}
	b := listSource{items: []int32{3, 4, 5}}
	fb := listSource{items: []int32{9, 8, 7, 6, 5, 4, 3, 2, 1}}
	failed := listSource{err: errors.New("index down")}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	known := []int32{0}
	tests := []struct {
		name          string
		merge         string
		budgetMS      float64
		a, b, fb      listSource
		ctx           context.Context
		history       []int32
		skip          []int32
		k             int
		want          []int32
		fallbackStage string // a stage that must report a fallback
		fallback      bool   // the answer is the fallback model's (unknown history)
		degraded      bool
		err           error
		breakFallback bool // the fallback model fails after assembly
	}{
		{name: "interleave keeps first positions", a: a, b: b, fb: fb, history: known, want: []int32{1, 3, 2, 4, 5}},
		{name: "concat", merge: "concat", a: a, b: b, fb: fb, history: known, want: []int32{1, 2, 3, 4, 5}},
		{name: "seen items are filtered", a: a, b: b, fb: fb, history: []int32{0, 3}, want: []int32{1, 4, 2, 5}},
		{name: "caller's skip", a: a, b: b, fb: fb, history: known, skip: []int32{1, 5}, want: []int32{2, 3, 4}},
		{name: "k cuts the final list", a: a, b: b, fb: fb, history: known, k: 2, want: []int32{1, 3}},
		{name: "final.k bounds k", a: a, b: b, fb: fb, history: known, k: 100, want: []int32{1, 3, 2, 4, 5}},
		{name: "failing source: the fallback's list", a: failed, b: b, fb: fb, history: known, want: []int32{9, 3, 8, 4, 7, 5}, fallbackStage: "a"},
		{name: "source over budget: the fallback's list", budgetMS: 5, a: listSource{slow: true}, b: b, fb: fb, history: known, want: []int32{9, 3, 8, 4, 7, 5}, fallbackStage: "a"},
		{name: "no known history: the fallback model", a: a, b: b, fb: fb, history: []int32{25, 30}, want: []int32{9, 8, 7, 6, 5, 4}, fallback: true, fallbackStage: "b"},
		{name: "empty history: the fallback model", a: a, b: b, fb: fb, want: []int32{9, 8, 7, 6, 5, 4}, fallback: true},
		{name: "fallback excludes seen unknown-catalog items too", a: a, b: b, fb: fb, history: []int32{25}, skip: []int32{9}, k: 3, want: []int32{8, 7, 6}, fallback: true},
		{name: "source and fallback fail: degraded", a: failed, b: b, fb: fb, breakFallback: true, history: []int32{0, 9}, want: []int32{8, 7, 6, 5, 4, 3}, degraded: true, fallback: true},
		{name: "unknown history, fallback fails: degraded", a: a, b: b, fb: fb, breakFallback: true, history: []int32{25}, want: []int32{9, 8, 7, 6, 5, 4}, degraded: true, fallback: true},
		{name: "deadline passed: degraded, seen left out", a: a, b: b, fb: fb, ctx: expired, history: []int32{0, 9}, want: []int32{8, 7, 6, 5, 4, 3}, degraded: true, fallback: true},
		{name: "canceled: an error", a: a, b: b, fb: fb, ctx: canceled, history: known, err: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := stubPipeline(t, tc.merge, tc.budgetMS, tc.a, tc.b, tc.fb)
			if tc.breakFallback {
				p.fallback = listSource{err: errors.New("fallback down")}
			}
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			q := Query{Query: candidates.Query{User: -1, History: tc.history}, K: tc.k}
			if tc.skip != nil {
				q.Skip = func(it int32) bool { return slices.Contains(tc.skip, it) }
			}
			res, err := p.RecommendDense(ctx, q)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if res.Fallback != tc.fallback || res.Degraded != tc.degraded {
				t.Fatalf("fallback %v degraded %v (%s), want %v %v", res.Fallback, res.Degraded, res.Reason, tc.fallback, tc.degraded)
			}
			if tc.want != nil && !slices.Equal(ids(res.Items), tc.want) {
				t.Fatalf("items %v, want %v", ids(res.Items), tc.want)
			}
			if tc.degraded && (res.Reason == "" || len(res.Items) == 0) {
				t.Fatalf("degraded answer without a reason or items: %+v", res)
			}
			if tc.fallbackStage != "" {
				i := slices.IndexFunc(res.Stages, func(s StageResult) bool { return s.Name == tc.fallbackStage })
				if i < 0 || !res.Stages[i].Fallback || res.Stages[i].Err == "" {
					t.Fatalf("stage %s did not report its fallback: %+v", tc.fallbackStage, res.Stages)
				}
			}
		})
	}
}

// The degraded answer calls no model: it stands even when every model would fail.
func TestDegradedCallsNoModel(t *testing.T) {
	fb := listSource{items: []int32{4, 3, 2, 1, 0}}
	p := stubPipeline(t, "", 0, listSource{}, listSource{}, fb)
	p.fallback = listSource{err: errors.New("must not be called")}
	p.sources = nil
	res := p.Degraded(Query{Query: candidates.Query{History: []int32{3}}, K: 3}, errors.New("overload"))
	if !res.Degraded || res.Reason != "overload" || !slices.Equal(ids(res.Items), []int32{4, 2, 1}) {
		t.Fatalf("%+v", res)
	}
}

func BenchmarkDegraded(b *testing.B) {
	items := make([]int32, 5000)
	for i := range items {
		items[i] = int32(i)
	}
	cfg := &Config{Name: "bench", Fallback: "fb", Retrieve: RetrieveConfig{Sources: []SourceConfig{{Model: "fb", K: 500}}}, Final: FinalConfig{K: 100}}
	yes := true
	cfg.Filter.ExcludeSeen = &yes
	p, err := assemble(cfg, map[string]Model{"fb": listSource{items: items}}, nil, nil, nil, len(items))
	if err != nil {
		b.Fatal(err)
	}
	q := Query{Query: candidates.Query{History: items[:200]}, K: 10}
	b.ReportAllocs()
	for b.Loop() {
		p.Degraded(q, nil)
	}
}
