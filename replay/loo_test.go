package replay

import (
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/progress"
)

// looLog is a hand-checked log (times in the first column):
//
//	t1 A x    t3 A w (A's last)   t4 C z (C's only event)   t5 B x   t6 B z (B's last)
//	t2 B y    t9 D x              t9 D y (D's last: same time, later in the file)
//
// Item w first appears in a held-out event, before z appears in training, so the leave-one-out
// IDs differ from the log's: x0 y1 z2 (train), w3 (held out only), q4 (attribute file only).
func looLog() *dataset.Dataset {
	users, items := dataset.NewDict(), dataset.NewDict()
	for _, u := range []string{"A", "B", "C", "D"} {
		users.Add(u)
	}
	for _, i := range []string{"x", "y", "w", "z", "q"} { // first appearance in the whole log
		items.Add(i)
	}
	e := func(u, i string, t int64) dataset.Event {
		uid, _ := users.Lookup(u)
		iid, _ := items.Lookup(i)
		return dataset.Event{User: uid, Item: iid, Time: t, Value: float32(math.NaN())}
	}
	genres := dataset.NewDict()
	for _, g := range []string{"gx", "gy", "gw", "gz", "gq"} {
		genres.Add(g)
	}
	nan := float32(math.NaN())
	return &dataset.Dataset{
		Name: "tiny", Format: dataset.FormatGeneric, Users: users, Items: items,
		Events: []dataset.Event{e("A", "x", 1), e("B", "y", 2), e("A", "w", 3), e("C", "z", 4), e("B", "x", 5), e("B", "z", 6), e("D", "x", 9), e("D", "y", 9)},
		ItemAttrs: &dataset.Attributes{
			Categorical: []dataset.CategoricalColumn{{Name: "genre", Dict: genres, Values: [][]int32{{0}, {1}, {2}, {3}, {4}}}},
			Numeric:     []dataset.NumericColumn{{Name: "year", Values: []float32{2000, 2001, 2002, 2003, nan}}},
		},
		ItemTitles: []string{"X", "Y", "W", "Z", "Q"},
	}
}

func TestLeaveOneOutSplit(t *testing.T) {
	l, err := LeaveOneOut(looLog())
	if err != nil {
		t.Fatal(err)
	}
	tr := l.Train
	if got := tr.Items.IDs(); !reflect.DeepEqual(got, []string{"x", "y", "z", "w", "q"}) {
		t.Errorf("item IDs %v", got)
	}
	if got := tr.Users.IDs(); !reflect.DeepEqual(got, []string{"A", "B", "C", "D"}) {
		t.Errorf("user IDs %v", got)
	}
	type ev struct {
		u, i string
		t    int64
	}
	names := func(events []dataset.Event) []ev {
		var out []ev
		for _, e := range events {
			out = append(out, ev{tr.Users.String(e.User), tr.Items.String(e.Item), e.Time})
		}
		return out
	}
	wantTrain := []ev{{"A", "x", 1}, {"B", "y", 2}, {"C", "z", 4}, {"B", "x", 5}, {"D", "x", 9}}
	wantTest := []ev{{"A", "w", 3}, {"B", "z", 6}, {"D", "y", 9}}
	if got := names(tr.Events); !reflect.DeepEqual(got, wantTrain) {
		t.Errorf("train %v, want %v", got, wantTrain)
	}
	if !reflect.DeepEqual(l.Split.Train, tr.Events) {
		t.Error("the split's train part is not the training data set's events")
	}
	if got := names(l.Split.Test); !reflect.DeepEqual(got, wantTest) {
		t.Errorf("test %v, want %v", got, wantTest)
	}
	if l.Split.TrainItems != 3 || l.Split.TrainUsers != 4 || tr.Name != "tiny/loo" {
		t.Errorf("catalog %d items, %d users, name %q", l.Split.TrainItems, l.Split.TrainUsers, tr.Name)
	}
	// Attributes and titles follow their items.
	g := tr.ItemAttrs.Column("genre")
	for id, name := range tr.Items.IDs() {
		if want := "g" + name; g.Dict.String(g.Values[id][0]) != want {
			t.Errorf("item %s has genre %s", name, g.Dict.String(g.Values[id][0]))
		}
	}
	if years := tr.ItemAttrs.Numeric[0].Values; years[2] != 2003 || years[3] != 2002 || !math.IsNaN(float64(years[4])) {
		t.Errorf("years %v", years)
	}
	if !reflect.DeepEqual(tr.ItemTitles, []string{"X", "Y", "Z", "W", "Q"}) {
		t.Errorf("titles %v", tr.ItemTitles)
	}
	// The source is untouched.
	if src := looLog(); !reflect.DeepEqual(src.Items.IDs(), []string{"x", "y", "w", "z", "q"}) {
		t.Error("source changed")
	}
}

// The LOO split through Run: one warm step per user with two events, hand-computed metrics.
func TestLeaveOneOutMetrics(t *testing.T) {
	l, err := LeaveOneOut(looLog())
	if err != nil {
		t.Fatal(err)
	}
	// z, y, x in that order (new IDs 2, 1, 0), seen items left out:
	//   A: history {x} → z, y; target w is outside the catalog: a miss
	//   B: history {y, x} → z; target z at rank 1
	//   D: history {x} → z, y; target y at rank 2
	rec := Source("fixed", fixed{order: []int32{2, 1, 0}}, 500)
	rep, err := Run(context.Background(), l.Split, rec, Options{
		Dataset: "tiny", Protocol: ProtocolLOO, ItemIDs: l.Train.Items.IDs(),
		Ks: []int{1, 10}, Ns: []int{1, 2}, Progress: progress.Options{Disabled: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Protocol != "loo" || rep.TrainEvents != 5 || rep.TestSteps != 3 || rep.NoHistorySteps != 0 ||
		rep.Users != 3 || rep.WarmUsers != 3 || rep.WarmSteps != 3 || rep.ColdSteps != 0 {
		t.Fatalf("counts %+v", rep)
	}
	// Train popularity: x 3, y 1, z 1 (tie by ID: y first) → percentiles x 1, y 0.5, z 0.
	want := map[string]float64{
		"hr@1": 1.0 / 3, "hr@10": 2.0 / 3,
		"ndcg@1": 1.0 / 3, "ndcg@10": (1 + 1/math.Log2(3)) / 3,
		"mrr@1": 1.0 / 3, "mrr@10": 0.5,
		"coverage@10":   2.0 / 3,               // {z, y} of {x, y, z}
		"popularity@10": (0.25 + 0 + 0.25) / 3, // A (z, y), B (z), D (z, y)
	}
	for k, v := range want {
		if math.Abs(rep.Metrics[k]-v) > 1e-12 {
			t.Errorf("%s = %v, want %v", k, rep.Metrics[k], v)
		}
	}
	if got := rep.Stages["fixed"]; math.Abs(got["recall@1"]-1.0/3) > 1e-12 || math.Abs(got["recall@2"]-2.0/3) > 1e-12 {
		t.Errorf("recall %v", got)
	}
}

func TestLeaveOneOutNeedsTwoEvents(t *testing.T) {
	ds := looLog()
	ds.Events = []dataset.Event{ds.Events[0], ds.Events[1], ds.Events[3]} // A, B, C once each
	if _, err := LeaveOneOut(ds); err == nil {
		t.Fatal("no user with two events: want an error")
	}
	ds = looLog()
	ds.Events[4].Item = 9 // beyond the item dictionary
	if _, err := LeaveOneOut(ds); err == nil || !strings.Contains(err.Error(), "event 4") {
		t.Fatalf("an event outside the dictionaries: %v", err)
	}
}
