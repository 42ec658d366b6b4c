package server

import (
	"reflect"
	"strings"
	"testing"
)

// Without context.time a request is computed at the data set's last event time (--clock data),
// exactly as one that names that time; --clock wall computes it now.
func TestClockDefaultsToTheData(t *testing.T) {
	f := ranked(t)
	last := f.ds.Events[len(f.ds.Events)-1].Time
	user, _ := activeUser(f)
	ask := func(s *Server, body map[string]any) recommendResponse {
		var resp recommendResponse
		if w := do(t, s.Handler(), "POST", "/v1/recommend", mustJSON(body), &resp); w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		return resp
	}
	s := newServer(t, f, nil)
	implicit := ask(s, map[string]any{"user_id": user, "k": 5, "explain": true})
	explicit := ask(s, map[string]any{"user_id": user, "k": 5, "explain": true, "context": map[string]any{"time": last}})
	if implicit.RequestTime != last || explicit.RequestTime != last {
		t.Fatalf("request times %d, %d; want the data's last event %d", implicit.RequestTime, explicit.RequestTime, last)
	}
	if len(implicit.Items) == 0 || !reflect.DeepEqual(implicit.Items, explicit.Items) {
		t.Fatalf("features at the default clock differ from those at the data's last event:\n%+v\n%+v", implicit.Items, explicit.Items)
	}
	wall := newServer(t, f, func(c *Config) { c.Clock = ClockWall })
	if got := ask(wall, map[string]any{"user_id": user, "k": 5, "explain": true}); got.RequestTime <= last {
		t.Fatalf("--clock wall used %d (the data ends at %d)", got.RequestTime, last)
	}
}

// An event for an item the catalog does not know is stored, and the answer says so unambiguously.
func TestEventsNameUnknownItems(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	_, seen := activeUser(f)
	var resp eventsResponse
	body := mustJSON([]map[string]any{{"user_id": "u1", "item_id": seen[0]}, {"user_id": "u1", "item_id": "brand-new"}, {"user_id": "u2", "item_id": "brand-new"}})
	if w := do(t, s.Handler(), "POST", "/v1/events", body, &resp); w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if resp.Accepted != 3 || resp.UnknownItems != 2 || !reflect.DeepEqual(resp.UnknownItemIDs, []string{"brand-new"}) || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "until a retrain") {
		t.Fatalf("%+v", resp)
	}
}
