package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recommendIDs asks for a recommendation and returns the item IDs answered.
func recommendIDs(t *testing.T, h http.Handler, body map[string]any) []string {
	t.Helper()
	var resp recommendResponse
	if w := do(t, h, "POST", "/v1/recommend", mustJSON(body), &resp); w.Code != http.StatusOK {
		t.Fatalf("recommend: %d %s", w.Code, w.Body.String())
	}
	var ids []string
	for _, it := range resp.Items {
		ids = append(ids, it.ItemID)
	}
	return ids
}

// TestItemsEndpoints: an item POSTed with attributes is recommended (the tower embeds it), found
// by similar, taken out by DELETE; a removed data-set item leaves the fallback list; the catalog
// log brings both back after a restart.
func TestItemsEndpoints(t *testing.T) {
	f := tower(t)
	logPath := filepath.Join(t.TempDir(), "catalog.jsonl")
	s := newServer(t, f, func(c *Config) { c.CatalogLog = logPath })
	h := s.Handler()
	user, hist := activeUser(f)
	all := f.ds.Items.IDs()
	onlyNew := map[string]any{"user_id": user, "k": 20, "exclude": all}

	var ir itemsResponse
	body := `{"id": "fresh-1", "attributes": {"genres": ["g01", "g02"], "year": 2024, "price": 3.5}}`
	if w := do(t, h, "POST", "/v1/items", body, &ir); w.Code != http.StatusOK || ir.Accepted != 1 || ir.Added != 1 {
		t.Fatalf("POST /v1/items: %d %s", w.Code, w.Body.String())
	}
	if got := recommendIDs(t, h, onlyNew); !slices.Equal(got, []string{"fresh-1"}) {
		t.Fatalf("with every data-set item excluded: %v, want [fresh-1]", got)
	}
	var sim similarResponse
	if w := do(t, h, "GET", "/v1/items/fresh-1/similar?k=5", "", &sim); w.Code != http.StatusOK || len(sim.Items) != 5 {
		t.Fatalf("similar of a live item: %d %s", w.Code, w.Body.String())
	}

	if w := do(t, h, "DELETE", "/v1/items/fresh-1", "", &ir); w.Code != http.StatusOK {
		t.Fatalf("DELETE: %d %s", w.Code, w.Body.String())
	}
	if got := recommendIDs(t, h, onlyNew); len(got) != 0 {
		t.Fatalf("deleted item still answered: %v", got)
	}
	if w := do(t, h, "DELETE", "/v1/items/never-seen", "", nil); w.Code != http.StatusNotFound {
		t.Fatalf("DELETE of an unknown item: %d", w.Code)
	}
	fallback := recommendIDs(t, h, map[string]any{"user_id": "nobody", "k": 5})
	top := fallback[0]
	if w := do(t, h, "POST", "/v1/items", mustJSON(map[string]any{"id": top, "available": false}), nil); w.Code != http.StatusOK {
		t.Fatalf("available false: %d %s", w.Code, w.Body.String())
	}
	for _, req := range []map[string]any{{"user_id": "nobody", "k": 5}, {"user_id": user, "k": 20, "history": hist}} {
		if got := recommendIDs(t, h, req); slices.Contains(got, top) || len(got) == 0 {
			t.Fatalf("unavailable %s answered: %v", top, got)
		}
	}

	// A restart reads the catalog log: both changes hold, and the item comes back on request.
	s.Close()
	s2 := newServer(t, f, func(c *Config) { c.CatalogLog = logPath })
	h2 := s2.Handler()
	if got := recommendIDs(t, h2, map[string]any{"user_id": "nobody", "k": 5}); slices.Contains(got, top) {
		t.Fatalf("after restart, unavailable %s answered: %v", top, got)
	}
	if got := recommendIDs(t, h2, onlyNew); len(got) != 0 {
		t.Fatalf("after restart, deleted item answered: %v", got)
	}
	if w := do(t, h2, "POST", "/v1/items", `{"id": "fresh-1", "available": true, "attributes": {"genres": "g01"}}`, &ir); w.Code != http.StatusOK || ir.Added != 0 {
		t.Fatalf("re-enable: %d %s", w.Code, w.Body.String())
	}
	if got := recommendIDs(t, h2, onlyNew); !slices.Equal(got, []string{"fresh-1"}) {
		t.Fatalf("re-enabled item: %v", got)
	}
	// An event of the live item is used, not counted unknown.
	var er eventsResponse
	if w := do(t, h2, "POST", "/v1/events", `{"user_id": "u-live", "item_id": "fresh-1"}`, &er); w.Code != http.StatusOK || er.UnknownItems != 0 {
		t.Fatalf("event of a live item: %d %s", w.Code, w.Body.String())
	}
	b, err := os.ReadFile(logPath)
	if err != nil || strings.Count(string(b), "\n") != 4 {
		t.Fatalf("catalog log: %v\n%s", err, b)
	}
}

func TestItemsBadInput(t *testing.T) {
	s := newServer(t, tower(t), nil)
	h := s.Handler()
	for _, tc := range []struct{ body, field string }{
		{`{"id": ""}`, "id"},
		{`{"attributes": {"year": 1}}`, "id"},
		{`{"id": "x", "extra": 1}`, "extra"},
		{`{"id": "x", "available": "yes"}`, "available"},
		{`{"id": "x", "attributes": {"colour": "red"}}`, "attributes.colour"},
		{`{"id": "x", "attributes": {"year": "1999"}}`, "attributes.year"},
		{`{"id": "x", "attributes": {"genres": 5}}`, "attributes.genres"},
		{`{"id": "x", "attributes": {"genres": [1, 2]}}`, "attributes.genres"},
		{`{"id": "x", "attributes": {"genres": [""]}}`, "attributes.genres"},
		{`{"id": "x", "attributes": {"year": null}}`, "attributes.year"},
		{`[]`, "items"},
		{`[{"id": "a"}, {"id": "a"}]`, "items[1].id"},
		{`[{"id": "a"}, {"id": "b", "attributes": {"nope": 1}}]`, "items[1].attributes.nope"},
		{`[{"id": "a"}, {"id": "b", "extra": true}]`, "items.extra"},
		{`{"id": "x"} {"id": "y"}`, "body"},
	} {
		var e apiError
		w := do(t, h, "POST", "/v1/items", tc.body, &e)
		if w.Code != http.StatusBadRequest || e.Field != tc.field {
			t.Errorf("%s: %d field %q (%s), want 400 naming %q", tc.body, w.Code, e.Field, e.Msg, tc.field)
		}
	}
	if _, ok := s.catalog.Lookup("a"); ok {
		t.Error("a refused request changed the catalog")
	}
}

func TestItemsNeedAdminToken(t *testing.T) {
	s := newServer(t, tower(t), func(c *Config) { c.AdminToken = "sesame" })
	h := s.Handler()
	if w := do(t, h, "POST", "/v1/items", `{"id": "x"}`, nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("without the token: %d", w.Code)
	}
	if w := do(t, h, "DELETE", "/v1/items/x", "", nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("DELETE without the token: %d", w.Code)
	}
	req := httptest.NewRequest("POST", "/v1/items", strings.NewReader(`{"id": "x"}`))
	req.Header.Set("Authorization", "Bearer sesame")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("with the token: %d %s", w.Code, w.Body.String())
	}
}

// Catalog changes and a reload run while recommendations are answered (run with -race).
func TestItemsConcurrentWithRequests(t *testing.T) {
	f := tower(t)
	s := newServer(t, f, nil)
	h := s.Handler()
	user, _ := activeUser(f)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if w := do(t, h, "POST", "/v1/recommend", mustJSON(map[string]any{"user_id": user, "k": 10}), nil); w.Code != http.StatusOK {
					t.Errorf("recommend: %d", w.Code)
					return
				}
			}
		}()
	}
	for i := range 30 {
		body := fmt.Sprintf(`{"id": "conc-%d", "available": %v, "attributes": {"genres": "g0%d"}}`, i%10, i%3 != 0, i%5+1)
		if w := do(t, h, "POST", "/v1/items", body, nil); w.Code != http.StatusOK {
			t.Fatalf("POST: %d %s", w.Code, w.Body.String())
		}
		if i == 15 {
			if _, err := s.Reload(context.Background(), ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	got := recommendIDs(t, h, map[string]any{"user_id": user, "k": 20, "exclude": f.ds.Items.IDs()})
	for _, id := range got {
		if !strings.HasPrefix(id, "conc-") {
			t.Errorf("a data-set item answered: %s", id)
		}
	}
	// The last write of each item wins: conc-0 (i = 20: available), conc-1 (i = 21: not).
	if !slices.Contains(got, "conc-0") || slices.Contains(got, "conc-1") {
		t.Errorf("after the reload: %v", got)
	}
}
