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

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/ranker/gbdt"
	"github.com/cascade-rec/cascade/synth"
)

// handDataset: users a, b; items x, y, z, w; a takes x at 100 and y at 200, b takes z at 150.
func handDataset() *dataset.Dataset {
	ds := &dataset.Dataset{Name: "hand", Users: dataset.NewDict(), Items: dataset.NewDict()}
	add := func(u, i string, t int64) {
		ds.Events = append(ds.Events, dataset.Event{User: ds.Users.Add(u), Item: ds.Items.Add(i), Time: t, Value: float32(math.NaN())})
	}
	add("a", "x", 100)
	add("b", "z", 150)
	add("a", "y", 200)
	ds.Items.Add("w")
	return ds
}

const handImpressions = `{"request_id":"r0","user_id":"a","timestamp":200,"shown":[{"item_id":"z","position":2,"propensity":0.2},{"item_id":"y","position":1,"propensity":0.5},{"item_id":"nope","position":3,"propensity":0.1},{"item_id":"w","position":4,"propensity":0.05}],"clicked":["y"]}
{"request_id":"r1","user_id":"new","timestamp":120,"shown":[{"item_id":"x","position":1,"propensity":0.9}],"clicked":[]}

{"request_id":"r2","user_id":"b","timestamp":151,"shown":[{"item_id":"nope","position":1,"propensity":0.9}],"clicked":["nope"]}
`

func TestBuildFromImpressions(t *testing.T) {
	ds := handDataset()
	s, err := BuildFromImpressions(context.Background(), strings.NewReader(handImpressions), "hand.jsonl", ds,
		ImpressionOptions{Features: []FeatureProvider{SourceFeatures{}, HistoryLength{}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := BuildStats{Events: 3, NoHistory: 1, NoCandidates: 1, UnknownItems: 2, Requests: 2, WithPositive: 1}
	if s.Stats != want {
		t.Fatalf("stats %+v, want %+v", s.Stats, want)
	}
	// Sorted by time: the unknown user's request at 120 comes first.
	r0, r1 := s.Requests[0], s.Requests[1]
	if r0.User != -1 || len(r0.History) != 0 || !reflect.DeepEqual(r0.Items, []int32{0}) {
		t.Fatalf("first request %+v", r0)
	}
	y, _ := ds.Items.Lookup("y")
	z, _ := ds.Items.Lookup("z")
	w, _ := ds.Items.Lookup("w")
	x, _ := ds.Items.Lookup("x")
	// a's event y at 200 is not strictly before the request at 200: only x is history.
	if !reflect.DeepEqual(r1.History, []int32{x}) {
		t.Fatalf("history %v, want [%d]: events at the request time must not leak", r1.History, x)
	}
	if !reflect.DeepEqual(r1.Items, []int32{y, z, w}) || !reflect.DeepEqual(r1.Labels, []float32{1, 0, 0}) || r1.Target != -1 {
		t.Fatalf("request %+v", r1)
	}
	if got := r1.Row(1, 3); got[0] != 0.2 || got[1] != 1 || got[2] != float32(math.Log1p(1)) {
		t.Fatalf("features of z: %v", got)
	}
	if _, err := BuildFromImpressions(context.Background(), strings.NewReader("{\"user_id\": 3}\n"), "bad.jsonl", ds, ImpressionOptions{}); err == nil || !strings.Contains(err.Error(), "bad.jsonl:1") {
		t.Fatalf("malformed line: error %v", err)
	}
}

func TestBuildFromSyntheticImpressions(t *testing.T) {
	cfg := synth.Small(7)
	cfg.Impressions = 300
	w, err := synth.Generate(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := w.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Load(dir, dataset.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := BuildFromImpressionsFile(context.Background(), filepath.Join(dir, synth.ImpressionsFile), ds, ImpressionOptions{Features: []FeatureProvider{SourceFeatures{}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Requests) != len(w.Impressions) || s.Stats.UnknownItems != 0 {
		t.Fatalf("%d requests (stats %+v) from %d impressions", len(s.Requests), s.Stats, len(w.Impressions))
	}
	clicks, labels := 0, 0
	for k, im := range w.Impressions {
		clicks += len(im.Clicked)
		r := &s.Requests[k]
		labels += int(sumLabels(r.Labels))
		u, _ := ds.Users.Lookup(w.Users[im.User].ID)
		hist := w.History(int(im.User), im.Time)
		if r.User != u || len(r.History) != len(hist) {
			t.Fatalf("request %d: user %d, %d history items; the world says %d", k, r.User, len(r.History), len(hist))
		}
		for j, it := range hist {
			if ds.Items.String(r.History[j]) != w.Items[it].ID {
				t.Fatalf("request %d: history %d is %s, want %s", k, j, ds.Items.String(r.History[j]), w.Items[it].ID)
			}
		}
	}
	if clicks != labels {
		t.Fatalf("%d clicks logged, %d positive labels", clicks, labels)
	}
}

func sumLabels(y []float32) float32 {
	var s float32
	for _, v := range y {
		s += v
	}
	return s
}

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
