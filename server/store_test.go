package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cascade-rec/cascade/server/history"
)

// downStore is a HistoryStore whose server is down (the fleet tests in server/fleet do the
// same with a real redis-server killed and hung).
type downStore struct{}

func (downStore) History(context.Context, string, []history.Entry) ([]history.Entry, error) {
	return nil, fmt.Errorf("%w: dial tcp 10.1.2.3:6379: connection refused", history.ErrUnavailable)
}

func (downStore) Append(context.Context, []history.Event) (int, error) {
	return 0, fmt.Errorf("%w: dial tcp 10.1.2.3:6379: connection refused", history.ErrUnavailable)
}

func (downStore) Close() error { return nil }

// An unavailable store: events are refused with 503 history_unavailable (and Retry-After),
// recommendations are answered from the data set's and the request's history with a warning;
// neither tells the client the store's address.
func TestUnavailableStore(t *testing.T) {
	f := ranked(t)
	s := newServer(t, f, nil)
	s.store.Close()
	s.store = downStore{}
	user, seen := activeUser(f)
	var e apiError
	w := do(t, s.Handler(), "POST", "/v1/events", mustJSON(map[string]any{"user_id": user, "item_id": seen[0]}), &e)
	if w.Code != 503 || e.Code != "history_unavailable" || w.Header().Get("Retry-After") == "" || strings.Contains(w.Body.String(), "10.1.2.3") {
		t.Fatalf("events: %d %s %v", w.Code, w.Body, w.Header())
	}
	var resp recommendResponse
	w = do(t, s.Handler(), "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user, "history": []string{seen[0]}, "k": 5}), &resp)
	uid, _ := f.ds.Users.Lookup(user)
	seedItems, _, _ := s.seed.get(uid)
	seed := len(seedItems)
	if w.Code != 200 || len(resp.Items) != 5 || resp.HistoryLen != seed+1 || len(resp.Warnings) != 1 ||
		!strings.HasPrefix(resp.Warnings[0], "history_unavailable") || strings.Contains(w.Body.String(), "10.1.2.3") {
		t.Fatalf("recommend: %d, history %d (seed %d + 1), %s", w.Code, resp.HistoryLen, seed, w.Body)
	}
	if n := value(s.metrics.errors.WithLabelValues("history_unavailable")); n != 2 {
		t.Errorf("history_unavailable errors counted %v, want 2", n)
	}
}
