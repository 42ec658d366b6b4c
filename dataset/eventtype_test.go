package dataset

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// Logs reach 10M events: the type index must fit in the struct's padding.
func TestEventSize(t *testing.T) {
	if n := unsafe.Sizeof(Event{}); n != 24 {
		t.Fatalf("dataset.Event is %d bytes, want 24", n)
	}
}

func TestLoadEventTypes(t *testing.T) {
	const rows = "u1,a,100,view\nu1,b,200,buy\nu2,c,150,impression\nu2,a,300,view\nu3,c,400,cart\n"
	cases := []struct {
		name      string
		events    string
		drop      []string
		types     []string // Dataset.EventTypes; nil: no column
		items     []string // items of the events, in time order
		typeNames []string // their types
		dropped   int
		lastItem  string // the item with the highest dense ID
	}{
		{"no column", "user_id,item_id,timestamp\nu1,a,100\nu2,b,50\n", nil, nil,
			[]string{"b", "a"}, nil, 0, "a"},
		{"event column", "user_id,item_id,timestamp,event\n" + rows, nil, []string{"view", "buy", "impression", "cart"},
			[]string{"a", "c", "b", "a", "c"}, []string{"view", "impression", "buy", "view", "cart"}, 0, "b"},
		{"event_type column, value before it", "user_id,item_id,timestamp,value,event_type\nu1,a,100,4, view \nu1,b,200,,buy\n", nil, []string{"view", "buy"},
			[]string{"a", "b"}, []string{"view", "buy"}, 0, "b"},
		// c occurs in a kept cart event at 400: its ID comes from that event, after b.
		{"drop impressions", "user_id,item_id,timestamp,event\n" + rows, []string{"impression"}, []string{"view", "buy", "impression", "cart"},
			[]string{"a", "b", "a", "c"}, []string{"view", "buy", "view", "cart"}, 1, "c"},
		// d is only in a dropped event: it still has an ID, after every item of a kept event.
		{"drop leaves an item without events", "user_id,item_id,timestamp,event\nu1,d,1,impression\nu1,a,2,view\n", []string{"impression", "absent"}, []string{"impression", "view"},
			[]string{"a"}, []string{"view"}, 1, "d"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, err := Load(writeFiles(t, map[string]string{"events.csv": c.events}), LoadOptions{DropTypes: c.drop})
			if err != nil {
				t.Fatal(err)
			}
			if c.types == nil {
				if ds.EventTypes != nil {
					t.Fatalf("types %v, want none", ds.EventTypes.IDs())
				}
			} else if ds.EventTypes == nil || !slices.Equal(ds.EventTypes.IDs(), c.types) {
				t.Fatalf("types %v, want %v", ds.EventTypes, c.types)
			}
			var items, types []string
			for _, e := range ds.Events {
				items = append(items, ds.Items.String(e.Item))
				if ds.EventTypes == nil {
					if e.Type != 0 {
						t.Fatalf("type %d without an event column", e.Type)
					}
					continue
				}
				types = append(types, ds.EventTypes.String(int32(e.Type)))
			}
			if !slices.Equal(items, c.items) || !slices.Equal(types, c.typeNames) {
				t.Fatalf("events %v %v, want %v %v", items, types, c.items, c.typeNames)
			}
			if ds.Dropped != c.dropped {
				t.Fatalf("dropped %d, want %d", ds.Dropped, c.dropped)
			}
			if last := ds.Items.String(int32(ds.NumItems() - 1)); last != c.lastItem {
				t.Fatalf("last item %q, want %q", last, c.lastItem)
			}
		})
	}
}

func TestLoadEventTypeErrors(t *testing.T) {
	var many strings.Builder
	many.WriteString("user_id,item_id,timestamp,event\n")
	for i := range MaxEventTypes + 1 {
		fmt.Fprintf(&many, "u,i,%d,t%d\n", i, i)
	}
	cases := []struct {
		name, events, want string
	}{
		{"empty type", "user_id,item_id,timestamp,event\nu,a,1,view\nu,b,2, \n", "events.csv:3: field event: empty event type"},
		{"too many types", many.String(), fmt.Sprintf("events.csv:%d: field event: \"t%d\" would be event type number %d", MaxEventTypes+2, MaxEventTypes, MaxEventTypes+1)},
		{"two type columns", "user_id,item_id,timestamp,event,event_type\nu,a,1,v,v\n", "events.csv:1: field event"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(writeFiles(t, map[string]string{"events.csv": c.events}), LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
	// Skipping malformed rows skips a bad type like any bad field.
	ds, err := Load(writeFiles(t, map[string]string{"events.csv": cases[0].events}), LoadOptions{SkipMalformed: true})
	if err != nil || len(ds.Events) != 1 || ds.Skipped != 1 {
		t.Fatalf("skip: %v, %v", ds, err)
	}
}

func TestTypeIndex(t *testing.T) {
	ds, err := Load(writeFiles(t, map[string]string{"events.csv": "user_id,item_id,timestamp,event\nu,a,1,view\nu,b,2,buy\n"}), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if i, err := ds.TypeIndex("buy"); err != nil || i != 1 {
		t.Fatalf("buy: %d, %v", i, err)
	}
	if _, err := ds.TypeIndex("purchase"); err == nil || !strings.Contains(err.Error(), `"view", "buy"`) {
		t.Fatalf("an unknown type should list the known ones: %v", err)
	}
	if c := ds.TypeCounts(); !slices.Equal(c, []int{1, 1}) {
		t.Fatalf("counts %v", c)
	}
	plain := &Dataset{Name: "plain", Events: []Event{{}, {}}}
	if _, err := plain.TypeIndex("view"); err == nil || !strings.Contains(err.Error(), "no event column") {
		t.Fatalf("no column: %v", err)
	}
	if c := plain.TypeCounts(); !slices.Equal(c, []int{2}) {
		t.Fatalf("counts %v", c)
	}
}

func TestWeightedCounts(t *testing.T) {
	// user 0: item 1 viewed twice and bought; item 0 viewed. user 1: item 2 carted (out of range
	// for a 2-column matrix, so left out).
	events := []Event{{User: 0, Item: 1, Type: 0}, {User: 0, Item: 1, Type: 0}, {User: 0, Item: 1, Type: 2}, {User: 0, Item: 0, Type: 0}, {User: 1, Item: 2, Type: 1}, {User: 1, Item: 0, Type: 1}}
	cases := []struct {
		name string
		w    TypeWeights
		want []float32 // row-major values: (0,0), (0,1), (1,0)
	}{
		{"nil is counts", nil, []float32{1, 3, 1}},
		{"weights", TypeWeights{1, 4, 10}, []float32{1, 12, 4}},
		{"types beyond the table weigh 1", TypeWeights{0.5}, []float32{0.5, 2, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := WeightedCounts(events, 2, 2, c.w)
			if !slices.Equal(m.Values, c.want) || !slices.Equal(m.Indices, []int32{0, 1, 0}) {
				t.Fatalf("values %v indices %v, want %v", m.Values, m.Indices, c.want)
			}
		})
	}
	counts := UserItemMatrix(events, 2, 2, Count)
	if !slices.Equal(counts.Values, WeightedCounts(events, 2, 2, nil).Values) {
		t.Fatal("nil weights must equal Count")
	}
}

func TestTypeSet(t *testing.T) {
	cases := []struct {
		name string
		set  TypeSet
		want []bool // Has(0), Has(1), Has(2)
	}{
		{"nil holds every type", nil, []bool{true, true, true}},
		{"one type; beyond the table is out", TypeSet{false, true}, []bool{false, true, false}},
	}
	for _, c := range cases {
		for typ, want := range c.want {
			if got := c.set.Has(uint8(typ)); got != want {
				t.Errorf("%s: Has(%d) = %v", c.name, typ, got)
			}
		}
	}
}
