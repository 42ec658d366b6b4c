package servedlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cascade-rec/cascade/ope"
)

// ErrNoOutcomes: no served item of the log says whether it was clicked.
var ErrNoOutcomes = errors.New("no served item carries a click outcome")

// VariantResult is one variant's click rate in a served log, its users being the units.
type VariantResult struct {
	Name     string `json:"name"`
	Users    int    `json:"users"`
	Requests int    `json:"requests"`
	Shown    int    `json:"shown"`  // items shown with a known outcome
	Clicks   int    `json:"clicks"` // of those, clicked
	// ClickRate is clicks per shown item; RequestClickRate the share of requests with a click.
	ClickRate        ope.Estimate `json:"click_rate"`
	RequestClickRate ope.Estimate `json:"request_click_rate"`
	// DiffCI and RequestDiffCI are the intervals of this variant's rates minus the control's
	// (absent for the control).
	DiffCI        *ope.Interval `json:"diff_ci,omitempty"`
	RequestDiffCI *ope.Interval `json:"request_diff_ci,omitempty"`
}

// VariantReport compares the variants of a served log.
type VariantReport struct {
	Control  string          `json:"control"`
	Level    float64         `json:"level"`
	Variants []VariantResult `json:"variants"`
	// Skipped counts entries without a variant or without any outcome.
	Skipped int `json:"skipped"`
}

// CompareVariants estimates each variant's click rates from the entries whose items carry
// Clicked, with intervals over users (the unit the variants were assigned by, so a user's
// correlated requests are not counted as independent evidence), and each variant's difference
// from control (ope.Difference: the variants' users are disjoint). control "" is the first
// variant in name order. Degraded and fallback answers are counted: they are what the variant
// served.
func CompareVariants(ctx context.Context, entries []Entry, control string, opt ope.Options) (*VariantReport, error) {
	type counts struct{ requests, withClick, shown, clicks int }
	users := map[string]map[string]*counts{} // variant → user → counts
	rep := &VariantReport{}
	known := false
	for _, e := range entries {
		var c counts
		for _, it := range e.Items {
			if it.Clicked == nil {
				continue
			}
			c.shown++
			if *it.Clicked {
				c.clicks++
			}
		}
		if e.Variant == "" || c.shown == 0 {
			rep.Skipped++
			continue
		}
		known = true
		if users[e.Variant] == nil {
			users[e.Variant] = map[string]*counts{}
		}
		u := users[e.Variant][e.User]
		if u == nil {
			u = &counts{}
			users[e.Variant][e.User] = u
		}
		u.requests++
		u.shown += c.shown
		u.clicks += c.clicks
		if c.clicks > 0 {
			u.withClick++
		}
	}
	if !known {
		return nil, fmt.Errorf("served log: %d entries, none with a variant and click outcomes: %w", len(entries), ErrNoOutcomes)
	}
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	slices.Sort(names)
	if control == "" {
		control = names[0]
	} else if users[control] == nil {
		return nil, fmt.Errorf("served log: no variant %q (present: %v)", control, names)
	}
	rep.Control = control
	// The control first, then the others in name order.
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case a == control:
			return -1
		case b == control:
			return 1
		}
		return 0
	})
	for _, n := range names {
		r := VariantResult{Name: n, Users: len(users[n])}
		var perItem, perRequest []ope.Unit
		ids := make([]string, 0, len(users[n]))
		for id := range users[n] {
			ids = append(ids, id)
		}
		slices.Sort(ids) // the bootstrap draws units by index: a fixed order makes it repeatable
		for _, id := range ids {
			u := users[n][id]
			r.Requests += u.requests
			r.Shown += u.shown
			r.Clicks += u.clicks
			perItem = append(perItem, ope.Unit{Successes: float64(u.clicks), Trials: float64(u.shown)})
			perRequest = append(perRequest, ope.Unit{Successes: float64(u.withClick), Trials: float64(u.requests)})
		}
		var err error
		if r.ClickRate, err = ope.Rate(ctx, perItem, opt); err != nil {
			return nil, fmt.Errorf("variant %s: %w", n, err)
		}
		if r.RequestClickRate, err = ope.Rate(ctx, perRequest, opt); err != nil {
			return nil, fmt.Errorf("variant %s: %w", n, err)
		}
		rep.Level = r.ClickRate.Level
		if n != control {
			c := rep.Variants[0]
			d, dr := ope.Difference(r.ClickRate, c.ClickRate), ope.Difference(r.RequestClickRate, c.RequestClickRate)
			r.DiffCI, r.RequestDiffCI = &d, &dr
		}
		rep.Variants = append(rep.Variants, r)
	}
	return rep, nil
}

// AttributeClicks sets every shown item's Clicked from later events: clicked when the user has
// an event on the item within horizon after the entry was served (Time; QueryTime when Time is
// unset). events maps user and item IDs to the event times (Unix seconds) of that pair. It is
// how a served log of the HTTP server, which sees clicks only as later POST /v1/events, gets
// its outcomes.
func AttributeClicks(entries []Entry, events map[[2]string][]int64, horizon time.Duration) {
	h := int64(horizon / time.Second)
	for i := range entries {
		e := &entries[i]
		t := e.QueryTime
		if !e.Time.IsZero() {
			t = e.Time.Unix()
		}
		for j := range e.Items {
			clicked := slices.ContainsFunc(events[[2]string{e.User, e.Items[j].ItemID}], func(ts int64) bool { return ts >= t && ts <= t+h })
			e.Items[j].Clicked = &clicked
		}
	}
}
