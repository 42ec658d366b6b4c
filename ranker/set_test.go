package ranker

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/ranker/gbdt"
)

func TestNDCG(t *testing.T) {
	cases := []struct {
		labels, scores []float32
		k              int
		want           float64
	}{
		{[]float32{0, 1, 0}, []float32{3, 2, 1}, 10, 1 / math.Log2(3)},
		{[]float32{0, 1, 0}, []float32{1, 2, 3}, 10, 1 / math.Log2(3)},
		{[]float32{0, 1, 0}, []float32{1, 2, 3}, 1, 0},
		{[]float32{0, 0}, []float32{1, 2}, 10, 0},
		{[]float32{1, 1, 0}, []float32{0, 1, 2}, 10, (1/math.Log2(3) + 1/math.Log2(4)) / (1 + 1/math.Log2(3))},
		// Ties keep list order; NaN sinks.
		{[]float32{0, 1}, []float32{5, 5}, 10, 1 / math.Log2(3)},
		{[]float32{1, 0}, []float32{float32(math.NaN()), 0}, 10, 1 / math.Log2(3)},
	}
	for _, c := range cases {
		if got := NDCG(c.labels, c.scores, c.k); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("NDCG(%v, %v, %d) = %v, want %v", c.labels, c.scores, c.k, got, c.want)
		}
	}
}

func testSet() *Set {
	return &Set{
		FeatureNames: []string{"a", "b"},
		Requests: []Request{
			{Time: 1, Items: []int32{1, 2, 3}, Labels: []float32{0, 0, 1}, Dense: []float32{1, 2, 3, 4, 5, float32(math.NaN())}, Target: 3, Proposed: 3},
			{Time: 2, Items: []int32{4, 5}, Labels: []float32{0, 0}, Dense: []float32{7, 8, 9, 10}, Target: 9, Proposed: 2},
			{Time: 2, Items: []int32{6, 7}, Labels: []float32{1, 0}, Dense: []float32{11, 12, 13, 14}, Target: 6, Proposed: 2},
		},
	}
}

func TestEvaluate(t *testing.T) {
	s := testSet()
	m, err := Evaluate(context.Background(), s, 10, SourceOrder)
	if err != nil {
		t.Fatal(err)
	}
	want := 1 / math.Log2(4)
	if m.Requests != 3 || m.WithPositive != 2 || math.Abs(m.NDCG-(want+1)/3) > 1e-12 || math.Abs(m.NDCGPositive-(want+1)/2) > 1e-12 || math.Abs(m.HitRate-2.0/3) > 1e-12 {
		t.Fatalf("%+v", m)
	}
}

func TestSplitProjectFilter(t *testing.T) {
	s := testSet()
	a, b := s.SplitTime(0.5)
	// The cut is the time of request 1 (2), so request 2 (same time) goes after it too.
	if len(a.Requests) != 1 || len(b.Requests) != 2 || b.Stats.Requests != 2 || b.Stats.WithPositive != 1 {
		t.Fatalf("split %d/%d, stats %+v", len(a.Requests), len(b.Requests), b.Stats)
	}
	p, err := s.Project([]string{"b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Requests[1].Dense; !reflect.DeepEqual(got, []float32{8, 7, 10, 9}) {
		t.Fatalf("projected %v", got)
	}
	if _, err := s.Project([]string{"a", "c"}); err == nil || !strings.Contains(err.Error(), "c") {
		t.Fatalf("projecting onto a missing feature: %v", err)
	}
	if got := s.WithPositives(); len(got.Requests) != 2 || got.Stats.WithTarget != 2 {
		t.Fatalf("with positives: %d requests, stats %+v", len(got.Requests), got.Stats)
	}
}

func TestCheckFeatures(t *testing.T) {
	want := []string{"a", "b", "c"}
	if err := CheckFeatures(want, []string{"a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
	err := CheckFeatures(want, []string{"a", "d"})
	if err == nil || !strings.Contains(err.Error(), "missing b, c") || !strings.Contains(err.Error(), "extra d") {
		t.Fatalf("error %v", err)
	}
	err = CheckFeatures(want, []string{"a", "c", "b"})
	if err == nil || !strings.Contains(err.Error(), "column 1") {
		t.Fatalf("error %v", err)
	}
}

func TestWriteLightGBM(t *testing.T) {
	s := testSet()
	path := filepath.Join(t.TempDir(), "train.tsv")
	if err := s.WriteLightGBMFiles(path); err != nil {
		t.Fatal(err)
	}
	q, err := os.ReadFile(path + ".query")
	if err != nil {
		t.Fatal(err)
	}
	if string(q) != "3\n2\n2\n" {
		t.Fatalf("query file %q", q)
	}
	var data, groups bytes.Buffer
	if err := s.WriteLightGBM(&data, &groups); err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(data.String(), "\n", 2)[0]; first != "0\t1\t2" {
		t.Fatalf("first row %q", first)
	}
	// The LightGBM reader of package gbdt reads it back.
	d, err := gbdt.ReadDataset(path, gbdt.ReadOptions{RequireGroups: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.NumRows != 7 || d.NumFeatures != 2 || !reflect.DeepEqual(d.Groups, []int{3, 2, 2}) || !math.IsNaN(d.Row(2)[1]) || d.Labels[6] != 0 || d.Labels[5] != 1 {
		t.Fatalf("read back %d rows × %d, groups %v, labels %v", d.NumRows, d.NumFeatures, d.Groups, d.Labels)
	}
}
