package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/pipeline"
)

// The living catalog: POST /v1/items adds or updates items, DELETE /v1/items/{id} (or
// available: false) takes one out of every answer. A change is first made durable in the
// catalog store — a log file under --state, or with --history redis://… a Redis hash whose
// changes are published to every replica — then applied to the served bundle: an item the
// models never saw is embedded by the two-tower's item tower from its attributes and inserted
// into its index. A reload applies the whole catalog to the new bundle before it serves.

// itemJSON is one item of POST /v1/items, and the record the catalog store keeps.
type itemUpdateJSON struct {
	ID string `json:"id"`
	// Attributes are the data set's item attribute columns: a categorical one takes a string or
	// an array of strings, a numeric one a number.
	Attributes map[string]json.RawMessage `json:"attributes,omitempty"`
	// Available (default true): false takes the item out of every answer.
	Available *bool `json:"available,omitempty"`
}

// itemsResponse is the answer of POST /v1/items and DELETE /v1/items/{id}.
type itemsResponse struct {
	// Accepted counts the items stored and applied; Added those new to the catalog.
	Accepted int `json:"accepted"`
	Added    int `json:"added"`
	// Warnings say, e.g., that a trained item keeps its trained embedding until a retrain.
	Warnings []string `json:"warnings,omitempty"`
}

// catalogStore keeps the catalog's changes and brings other replicas' to this one.
type catalogStore interface {
	// load returns the stored state, one record per item.
	load(ctx context.Context) ([]pipeline.CatalogItem, error)
	// save makes items durable (and announces them to the fleet) before it returns.
	save(ctx context.Context, items []pipeline.CatalogItem) error
	// watch calls apply with other replicas' changes until ctx ends (a no-op for a local store).
	watch(ctx context.Context, apply func([]pipeline.CatalogItem))
	close() error
}

// errCatalogUnavailable: the catalog store could not take a change; nothing was applied.
var errCatalogUnavailable = errors.New("the catalog store is unavailable")

// decodeItems reads one item object or an array of them (the field names of errors follow
// decodeEvents: items[2].attributes.year).
func decodeItems(r io.Reader, lim limits) ([]pipeline.CatalogItem, *apiError) {
	raw, batch, aerr := decodeBatch[itemUpdateJSON](r, "items", lim.maxBatch)
	if aerr != nil {
		return nil, aerr
	}
	out := make([]pipeline.CatalogItem, len(raw))
	for i, it := range raw {
		at := elementField("items", batch, i)
		if err := checkID(at("id"), it.ID, lim.maxIDBytes); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out[:i], func(o pipeline.CatalogItem) bool { return o.ID == it.ID }) {
			return nil, badRequest(at("id"), "item %q appears twice in one request", it.ID)
		}
		attrs, col, msg := attrsFromJSON(it.Attributes)
		if msg != "" {
			return nil, badRequest(at("attributes."+col), "%s", msg)
		}
		out[i] = pipeline.CatalogItem{ID: it.ID, Attrs: attrs, Available: it.Available == nil || *it.Available}
	}
	return out, nil
}

// attrsFromJSON reads attributes by their JSON type: a string or an array of strings is
// categorical, a number numeric. The catalog then checks them against the data set's columns.
// On error it returns the column and what is wrong.
func attrsFromJSON(raw map[string]json.RawMessage) (dataset.AttrValues, string, string) {
	var a dataset.AttrValues
	for _, col := range slices.Sorted(maps.Keys(raw)) {
		v := bytes.TrimSpace(raw[col])
		var s string
		var ss []string
		var f float64
		switch {
		case bytes.Equal(v, []byte("null")):
			return a, col, "null: give a value, or leave the attribute out"
		case len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil:
			ss = []string{s}
		case len(v) > 0 && v[0] == '[':
			if err := json.Unmarshal(v, &ss); err != nil {
				return a, col, "wrong type: want a string, an array of strings or a number"
			}
		case json.Unmarshal(v, &f) == nil:
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxFloat32 {
				return a, col, "not a finite number"
			}
			if a.Numeric == nil {
				a.Numeric = map[string]float64{}
			}
			a.Numeric[col] = f
			continue
		default:
			return a, col, "wrong type: want a string, an array of strings or a number"
		}
		if a.Categorical == nil {
			a.Categorical = map[string][]string{}
		}
		a.Categorical[col] = ss
	}
	return a, "", ""
}

// recordOf is the stored form of an item's state: the body POST /v1/items takes.
func recordOf(it pipeline.CatalogItem) ([]byte, error) {
	rec := itemUpdateJSON{ID: it.ID, Available: &it.Available, Attributes: map[string]json.RawMessage{}}
	for col, vs := range it.Attrs.Categorical {
		b, err := json.Marshal(vs)
		if err != nil {
			return nil, err
		}
		rec.Attributes[col] = b
	}
	for col, v := range it.Attrs.Numeric {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		rec.Attributes[col] = b
	}
	return json.Marshal(rec)
}

// parseRecord reads a stored record.
func parseRecord(b []byte) (pipeline.CatalogItem, error) {
	var rec itemUpdateJSON
	if err := json.Unmarshal(b, &rec); err != nil {
		return pipeline.CatalogItem{}, err
	}
	attrs, col, msg := attrsFromJSON(rec.Attributes)
	if msg != "" {
		return pipeline.CatalogItem{}, fmt.Errorf("attribute %q: %s", col, msg)
	}
	if rec.ID == "" {
		return pipeline.CatalogItem{}, errors.New("no item ID")
	}
	return pipeline.CatalogItem{ID: rec.ID, Attrs: attrs, Available: rec.Available == nil || *rec.Available}, nil
}

// handleUpsertItems answers POST /v1/items.
func (s *Server) handleUpsertItems(w http.ResponseWriter, r *http.Request) {
	if !s.writeAllowed(w, r) {
		return
	}
	items, aerr := decodeItems(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), s.lim)
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	if err := s.catalog.Check(items); err != nil {
		s.fail(w, r, catalogError(err, len(items) > 1))
		return
	}
	resp := itemsResponse{Accepted: len(items)}
	trained := 0
	numItems := 0
	if b := s.cur.Load(); b != nil {
		numItems = b.p.NumItems()
	}
	for _, it := range items {
		id, ok := s.catalog.Lookup(it.ID)
		if !ok {
			resp.Added++
		} else if int(id) < numItems && (len(it.Attrs.Categorical) > 0 || len(it.Attrs.Numeric) > 0) {
			trained++
		}
	}
	if trained > 0 {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("%d item(s) are in the models' trained catalog: their availability applies now, their new attributes at the next retrain", trained))
	}
	if !s.changeCatalog(w, r, items) {
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleDeleteItem answers DELETE /v1/items/{id}: the item stays in the catalog, unavailable.
func (s *Server) handleDeleteItem(w http.ResponseWriter, r *http.Request) {
	if !s.writeAllowed(w, r) {
		return
	}
	id := pathID(r)
	it, ok := s.catalog.Item(id)
	if !ok {
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "unknown_item", Field: "id", Msg: fmt.Sprintf("item %q is not in the catalog", id)})
		return
	}
	it.Available = false
	if !s.changeCatalog(w, r, []pipeline.CatalogItem{it}) {
		return
	}
	writeJSON(w, http.StatusOK, itemsResponse{Accepted: 1})
}

// pathID is the {id} of the route, unescaped.
func pathID(r *http.Request) string {
	id := chi.URLParam(r, "id")
	if r.URL.RawPath != "" { // chi routed on the escaped path
		if u, err := url.PathUnescape(id); err == nil {
			id = u
		}
	}
	return id
}

// changeCatalog stores items, then applies them here; false when it answered an error.
func (s *Server) changeCatalog(w http.ResponseWriter, r *http.Request, items []pipeline.CatalogItem) bool {
	start := time.Now()
	if err := s.catStore.save(r.Context(), items); err != nil {
		if r.Context().Err() != nil {
			s.metrics.errors.WithLabelValues("canceled").Inc()
			return false
		}
		s.log.Error("catalog store: a change was not stored", "err", err)
		w.Header().Set("Retry-After", "1")
		s.fail(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: "catalog_unavailable", Msg: "items not changed: the catalog store is unavailable; retry later"})
		return false
	}
	if err := s.applyCatalog(items); err != nil {
		// Stored but not applied here (a model refused the items): the log says why; a reload
		// or restart applies the stored state again.
		s.fail(w, r, &apiError{Status: http.StatusInternalServerError, Code: "internal", Msg: "items stored but not applied: " + err.Error()})
		return false
	}
	s.metrics.catalogChanges.Add(float64(len(items)))
	s.log.Debug("catalog changed", "items", len(items), "ms", time.Since(start).Milliseconds())
	return true
}

// applyCatalog applies changes (this replica's, or the fleet's from the store) to the catalog
// and the served bundle. catMu orders it with bundle swaps, so no change misses a new bundle.
func (s *Server) applyCatalog(items []pipeline.CatalogItem) error {
	s.catMu.Lock()
	defer s.catMu.Unlock()
	if err := s.catalog.Upsert(items); err != nil {
		return err
	}
	if b := s.cur.Load(); b != nil {
		if err := b.p.SyncCatalog(); err != nil {
			s.log.Error("catalog: the served bundle did not take the changes", "err", err)
			return err
		}
	}
	return nil
}

// applyStored applies changes read from the store, one at a time when the batch is refused, so
// that one bad record (written by a replica of another data set) costs only itself.
func (s *Server) applyStored(items []pipeline.CatalogItem) {
	if err := s.applyCatalog(items); err == nil {
		return
	}
	for _, it := range items {
		if err := s.applyCatalog([]pipeline.CatalogItem{it}); err != nil {
			s.log.Error("catalog: a stored item was refused", "item", it.ID, "err", err)
		}
	}
}

// catalogError maps a catalog refusal to a 400 naming the field.
func catalogError(err error, batch bool) *apiError {
	var ae *pipeline.AttrError
	if !errors.As(err, &ae) {
		return badRequest("body", "%s", err.Error())
	}
	field := "id"
	if ae.Column != "" {
		field = "attributes." + ae.Column
	}
	return badRequest(elementField("items", batch, ae.Item)(field), "%s", ae.Msg)
}

// writeAllowed admits a catalog write: with an admin token configured, it must carry it.
func (s *Server) writeAllowed(w http.ResponseWriter, r *http.Request) bool {
	if s.tokenOK(r) {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="cascade-admin"`)
	s.fail(w, r, &apiError{Status: http.StatusUnauthorized, Code: "unauthorized", Msg: "catalog changes need Authorization: Bearer <admin token>"})
	return false
}

// trimRecord is a stored record's text for a log line.
func trimRecord(b []byte) string { return strings.TrimSpace(string(b[:min(len(b), 200)])) }

// openCatalog makes the catalog and loads its stored state. A Redis store that does not answer
// at start is not fatal: the change feed loads the whole catalog once Redis is back.
func (s *Server) openCatalog() error {
	s.catalog = pipeline.NewCatalog(s.cfg.Dataset)
	var err error
	if s.cfg.Redis.URL != "" {
		s.catStore, err = openRedisCatalog(s.cfg.Redis.URL, s.cfg.Redis.Prefix, s.log)
	} else {
		s.catStore, err = openFileCatalog(s.cfg.CatalogLog, s.log)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	items, err := s.catStore.load(ctx)
	if err != nil {
		s.log.Error("catalog store: the stored catalog could not be read at start; it is applied once the store answers", "err", err)
		return nil
	}
	s.applyStored(items)
	if len(items) > 0 {
		s.log.Info("catalog: stored changes applied", "items", len(items))
	}
	return nil
}
