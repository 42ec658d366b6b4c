package popularity

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

// handMade has six items whose dense order differs from their string order: three tied at two
// events ("10" < "2" < "9" as strings, not as numbers), two tied at one ("a" < "b"), one unseen.
func handMade() ([]dataset.Event, []string) {
	ids := []string{"9", "b", "2", "zero", "10", "a"}
	var ev []dataset.Event
	for _, it := range []int32{0, 0, 1, 2, 2, 4, 4, 5, 9 /* outside the catalog */, -1} {
		ev = append(ev, dataset.Event{User: 1, Item: it, Value: float32(math.NaN())})
	}
	return ev, ids
}

func TestRanking(t *testing.T) {
	ev, ids := handMade()
	for _, tc := range []struct {
		name string
		ids  []string
		want []int32
	}{
		{"string tie-break", ids, []int32{4, 2, 0, 5, 1, 3}}, // "10" "2" "9" | "a" "b" | "zero"
		{"nil IDs: dense tie-break", nil, []int32{0, 2, 4, 1, 5, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Train(ev, len(ids), tc.ids)
			if got := m.Ranking(); !slices.Equal(got, tc.want) {
				t.Fatalf("ranking %v, want %v", got, tc.want)
			}
			if m.Total() != 8 || m.NumItems() != 6 {
				t.Fatalf("total %d, items %d; want 8, 6", m.Total(), m.NumItems())
			}
		})
	}
}

func cand(item int32, score float32) candidates.Candidate {
	return candidates.Candidate{Item: item, Score: score}
}

func TestRecommendAndScore(t *testing.T) {
	ev, ids := handMade()
	m := Train(ev, len(ids), ids)
	ctx := context.Background()
	skip := func(it int32) bool { return it == 2 || it == 5 }
	for _, tc := range []struct {
		name string
		n    int
		skip func(int32) bool
		want []candidates.Candidate
	}{
		{"top 3", 3, nil, []candidates.Candidate{cand(4, 2), cand(2, 2), cand(0, 2)}},
		{"skip", 3, skip, []candidates.Candidate{cand(4, 2), cand(0, 2), cand(1, 1)}},
		{"more than the catalog", 10, skip, []candidates.Candidate{cand(4, 2), cand(0, 2), cand(1, 1), cand(3, 0)}},
		{"zero", 0, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.Recommend(ctx, candidates.Query{User: -1}, tc.n, tc.skip, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}

	items := []int32{0, 3, 5, 6, -1}
	dst := make([]float32, len(items))
	if err := m.Score(ctx, candidates.Query{}, items, dst); err != nil {
		t.Fatal(err)
	}
	if dst[0] != 2 || dst[1] != 0 || dst[2] != 1 || !math.IsNaN(float64(dst[3])) || !math.IsNaN(float64(dst[4])) {
		t.Fatalf("scores %v, want [2 0 1 NaN NaN]", dst)
	}
	if err := m.Score(ctx, candidates.Query{}, items, dst[:2]); err == nil {
		t.Fatal("Score accepted a short dst")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Recommend(cancelled, candidates.Query{}, 3, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Recommend: %v", err)
	}
}

func TestLogPrior(t *testing.T) {
	ev, ids := handMade()
	m := Train(ev, len(ids), ids)
	// 8 events, 6 items: P(item) = (count + 1) / 14.
	for _, tc := range []struct {
		item  int32
		count float64
	}{{0, 2}, {1, 1}, {3, 0}, {99, 0}, {-3, 0}} {
		want := math.Log((tc.count + 1) / 14)
		if got := m.LogPrior(tc.item); math.Abs(float64(got)-want) > 1e-6 {
			t.Errorf("LogPrior(%d) = %v, want %v", tc.item, got, want)
		}
	}
	var sum float64
	for _, lp := range m.LogPriors() {
		sum += math.Exp(float64(lp))
	}
	if math.Abs(sum-1) > 1e-6 {
		t.Fatalf("priors sum to %v, want 1", sum)
	}
}

func TestSaveLoad(t *testing.T) {
	ev, ids := handMade()
	m := Train(ev, len(ids), ids)
	path := filepath.Join(t.TempDir(), "pop.model")
	if _, err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Ranking(), m.Ranking()) || !slices.Equal(got.LogPriors(), m.LogPriors()) || got.Total() != m.Total() {
		t.Fatal("loaded model differs")
	}
	a, _ := m.Recommend(context.Background(), candidates.Query{}, 6, nil, nil)
	b, _ := got.Recommend(context.Background(), candidates.Query{}, 6, nil, nil)
	if !slices.Equal(a, b) {
		t.Fatalf("recommendations differ: %v vs %v", a, b)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := slices.Clone(data)
	bad[len(bad)/2] ^= 0x40
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); !errors.Is(err, artifact.ErrCorrupt) {
		t.Fatalf("corrupt file: got %v, want ErrCorrupt", err)
	}

	// A well-framed payload whose ranking contradicts the counts is refused too.
	var e artifact.Encoder
	e.Int(2)
	e.Int(1)
	e.Int(5)
	e.Int32s([]int32{0, 1})
	if _, err := artifact.WriteFile(path, artifact.Header{Kind: format.Kind, Version: format.Version}, e.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); !errors.Is(err, artifact.ErrCorrupt) {
		t.Fatalf("inconsistent ranking: got %v, want ErrCorrupt", err)
	}
}

func TestRecommendDoesNotAllocate(t *testing.T) {
	ev, ids := handMade()
	m := Train(ev, len(ids), ids)
	ctx := context.Background()
	dst := make([]candidates.Candidate, 0, 8)
	skip := func(it int32) bool { return it == 2 }
	if n := testing.AllocsPerRun(100, func() {
		dst, _ = m.Recommend(ctx, candidates.Query{}, 4, skip, dst)
	}); n != 0 {
		t.Fatalf("%v allocations per Recommend", n)
	}
}
