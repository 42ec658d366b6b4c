package servedlog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/ope"
)

// log builds entries: users in two variants, b clicking twice as often as a.
func syntheticLog(users int) []Entry {
	rng := rand.New(rand.NewPCG(1, 2))
	var out []Entry
	for u := range users {
		v, p := "a", 0.05
		if u%2 == 1 {
			v, p = "b", 0.10
		}
		for r := range 1 + rng.IntN(4) {
			e := Entry{RequestID: fmt.Sprintf("%d-%d", u, r), User: fmt.Sprintf("u%d", u), Variant: v}
			for pos := range 5 {
				c := rng.Float64() < p
				e.Items = append(e.Items, Item{ItemID: fmt.Sprint(pos), Position: pos + 1, Clicked: &c})
			}
			out = append(out, e)
		}
	}
	return append(out, Entry{User: "x", Items: []Item{{ItemID: "1"}}}) // no variant: skipped
}

func TestCompareVariants(t *testing.T) {
	rep, err := CompareVariants(context.Background(), syntheticLog(2000), "", ope.Options{Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Control != "a" || len(rep.Variants) != 2 || rep.Skipped != 1 || rep.Level != 0.95 {
		t.Fatalf("report %+v", rep)
	}
	a, b := rep.Variants[0], rep.Variants[1]
	if a.Users != 1000 || b.Users != 1000 || a.DiffCI != nil || b.DiffCI == nil {
		t.Fatalf("variants %+v %+v", a, b)
	}
	if !a.ClickRate.CI.Contains(0.05) || !b.ClickRate.CI.Contains(0.10) {
		t.Fatalf("rates %+v %+v", a.ClickRate, b.ClickRate)
	}
	if b.DiffCI.Lo <= 0 || !b.DiffCI.Contains(0.05) {
		t.Fatalf("difference %+v, want around +0.05 and excluding 0", *b.DiffCI)
	}
	if got := float64(a.Clicks) / float64(a.Shown); got != a.ClickRate.Value {
		t.Fatalf("pooled rate %g vs %g", got, a.ClickRate.Value)
	}
	again, _ := CompareVariants(context.Background(), syntheticLog(2000), "", ope.Options{Bootstrap: 50})
	if *again.Variants[1].ClickRate.Bootstrap != *b.ClickRate.Bootstrap {
		t.Fatal("bootstrap not repeatable")
	}

	for _, c := range []struct {
		name    string
		entries []Entry
		control string
		want    string
	}{
		{"no outcomes", []Entry{{User: "u", Variant: "a", Items: []Item{{ItemID: "1"}}}}, "", "no served item carries"},
		{"unknown control", syntheticLog(10), "c", `no variant "c"`},
	} {
		if _, err := CompareVariants(context.Background(), c.entries, c.control, ope.Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
	if _, err := CompareVariants(context.Background(), nil, "", ope.Options{}); !errors.Is(err, ErrNoOutcomes) {
		t.Errorf("empty: %v", err)
	}
}

func TestReadAndAttributeClicks(t *testing.T) {
	served := time.Unix(1000, 0).UTC()
	text := `{"request_id":"r1","time":"` + served.Format(time.RFC3339) + `","user_id":"u","variant":"a","items":[{"item_id":"i1","position":1,"score":1},{"item_id":"i2","position":2,"score":null}]}` + "\n\n"
	es, err := Read(strings.NewReader(text))
	if err != nil || len(es) != 1 || es[0].Variant != "a" || len(es[0].Items) != 2 {
		t.Fatalf("read %+v, %v", es, err)
	}
	events := map[[2]string][]int64{
		{"u", "i1"}: {1000 + 60},   // within the horizon
		{"u", "i2"}: {1000 + 7200}, // too late
	}
	AttributeClicks(es, events, 30*time.Minute)
	if !*es[0].Items[0].Clicked || *es[0].Items[1].Clicked {
		t.Fatalf("clicked %v %v", *es[0].Items[0].Clicked, *es[0].Items[1].Clicked)
	}
	for _, c := range []struct{ text, want string }{
		{text + "not json\n", ":3: "},
		{"{}\n", ":1: a line without user_id or time"},
	} {
		if _, err := Read(strings.NewReader(c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read(%q): err = %v, want %q", c.text, err, c.want)
		}
	}
}
