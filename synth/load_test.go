package synth_test

import (
	"context"
	"testing"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/synth"
)

// TestGenerateLoads reads a written world back with the generic loader: the attribute columns must
// come out with the kinds the format promises.
func TestGenerateLoads(t *testing.T) {
	for _, typed := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "event types"}[typed], func(t *testing.T) { testGenerateLoads(t, typed) })
	}
}

func testGenerateLoads(t *testing.T, typed bool) {
	cfg := synth.Small(2)
	cfg.Impressions = 0
	cfg.EventTypes = typed
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
	if ds.Format != "generic" || len(ds.Events) != cfg.Events || ds.NumUsers() != cfg.Users || ds.NumItems() != cfg.Items || !ds.HasValues {
		t.Fatalf("loaded %v (format %s, values %v)", ds, ds.Format, ds.HasValues)
	}
	for n, e := range ds.Events {
		we := w.Events[n]
		if ds.Users.String(e.User) != w.Users[we.User].ID || ds.Items.String(e.Item) != w.Items[we.Item].ID || e.Time != we.Time || e.Value != float32(we.Rating) {
			t.Fatalf("event %d loads as %+v, generated %+v", n, e, we)
		}
		if typed && ds.EventTypes.String(int32(e.Type)) != synth.EventType(we.Rating) {
			t.Fatalf("event %d has type %q, rating %d", n, ds.EventTypes.String(int32(e.Type)), we.Rating)
		}
	}
	if typed != (ds.EventTypes != nil) {
		t.Fatalf("event types %v, want them: %v", ds.EventTypes, typed)
	}
	kinds := func(a *dataset.Attributes) (cat, num []string) {
		if a == nil {
			return nil, nil
		}
		for _, c := range a.Categorical {
			cat = append(cat, c.Name)
		}
		for _, c := range a.Numeric {
			num = append(num, c.Name)
		}
		return cat, num
	}
	if cat, num := kinds(ds.ItemAttrs); len(cat) != 1 || cat[0] != "genres" || len(num) != 2 || num[0] != "year" || num[1] != "price" {
		t.Errorf("item attributes: categorical %v, numeric %v; want [genres], [year price]", cat, num)
	}
	if cat, num := kinds(ds.UserAttrs); len(cat) != 2 || cat[0] != "segment" || cat[1] != "country" || len(num) != 0 {
		t.Errorf("user attributes: categorical %v, numeric %v; want [segment country], []", cat, num)
	}
	if g := ds.ItemAttrs.Column("genres"); g != nil && g.Dict.Len() != cfg.Genres {
		t.Errorf("%d genres loaded, want %d", g.Dict.Len(), cfg.Genres)
	}
}
