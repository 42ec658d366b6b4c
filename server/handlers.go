package server

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/pipeline"
	"github.com/cascade-rec/cascade/servedlog"
	"github.com/cascade-rec/cascade/server/history"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // a failed write means the client is gone
}

// fail answers an error and counts it by class.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *apiError) {
	s.metrics.errors.WithLabelValues(e.Code).Inc()
	if e.Status >= 500 {
		s.log.Warn("request failed", "request_id", requestIDOf(r.Context()), "path", r.URL.Path, "status", e.Status, "err", e.Msg)
	}
	writeJSON(w, e.Status, e)
}

func unavailable() *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Code: "unavailable", Msg: "no model bundle loaded yet"}
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady is 200 once a bundle serves and until shutdown begins, so that a load balancer
// stops sending traffic before the drain.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	b := s.cur.Load()
	switch {
	case s.stopping.Load():
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
	case b == nil:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "loading"})
	default:
		// The bundle's path and load time are for operators: the admin listener's /readyz.
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "model_version": b.version})
	}
}

//go:embed openapi.json
var openAPIDoc []byte

func handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPIDoc)
}

// reqScratch holds one recommendation's history buffers.
type reqScratch struct {
	live   []history.Entry
	items  []int32
	values []float32
	times  []int64
}

// handleRecommend answers POST /v1/recommend.
func (s *Server) handleRecommend(w http.ResponseWriter, r *http.Request) {
	req, aerr := decodeRecommend(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), s.lim)
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	b := s.cur.Load()
	if b == nil {
		s.fail(w, r, unavailable())
		return
	}
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	now := time.Now()
	qt := s.clock(now)
	if req.Context != nil && req.Context.Time != nil {
		qt = int64(*req.Context.Time)
	}
	ds := s.cfg.Dataset
	uid, inData := ds.Users.Lookup(req.UserID)
	if !inData {
		uid = -1
	}
	var sc reqScratch
	variant, p := b.p.ForUser(req.UserID)
	resp := &recommendResponse{RequestID: requestIDOf(r.Context()), ModelVersion: b.version, Variant: variant}
	q, live := s.history(ctx, &sc, req, uid, qt, resp)
	resp.UserKnown = inData || live > 0
	resp.HistoryLen = len(q.History)

	pq := pipeline.Query{Query: q, Skip: s.skipFunc(req.Exclude), K: *req.K, Explain: req.Explain || s.cfg.ServedLog.Features}
	var res pipeline.Result
	class := ""
	if s.acquire(ctx) {
		var err error
		res, err = p.RecommendDense(ctx, pq)
		<-s.slots
		if err != nil { // only a canceled request errs: the client is gone
			s.metrics.errors.WithLabelValues("canceled").Inc()
			return
		}
		if res.Degraded {
			class = "pipeline"
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				class = "deadline"
			}
		}
	} else {
		if r.Context().Err() != nil {
			s.metrics.errors.WithLabelValues("canceled").Inc()
			return
		}
		// Shed: the precomputed fallback list costs nothing, so overload never fails a request.
		res, class = p.Degraded(pq, errOverload), "overload"
	}
	switch {
	case res.Degraded:
		s.metrics.errors.WithLabelValues(class).Inc()
		s.metrics.answers.WithLabelValues("degraded").Inc()
	case res.Fallback:
		s.metrics.answers.WithLabelValues("fallback").Inc()
	default:
		s.metrics.answers.WithLabelValues("personal").Inc()
	}
	resp.Fallback, resp.Degraded = res.Fallback, res.Degraded
	if req.Explain {
		resp.RequestTime = qt
	}
	s.fillResponse(resp, &res, *req.K)
	if res.Degraded {
		// The first stage says why the answer degraded.
		resp.Stages = append([]stageJSON{{Name: class, Fallback: true, Error: res.Reason}}, resp.Stages...)
	}
	writeJSON(w, http.StatusOK, resp)
	s.logServed(resp, req, qt, now)
}

// acquire takes a pipeline slot, waiting at most until ctx ends (a free slot wins even then).
func (s *Server) acquire(ctx context.Context) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	select {
	case s.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// errOverload: the request's deadline passed while it waited for a pipeline slot.
var errOverload = errors.New("the deadline passed while waiting for a pipeline slot (overload)")

// history builds the query: the data set's events of the user (the last PerUser), the live
// store's, then the request's explicit history (stamped with the request time, no rating). It
// returns the number of live events used. When the live store is unavailable the answer goes on
// without it, with a warning.
func (s *Server) history(ctx context.Context, sc *reqScratch, req recommendRequest, uid int32, qt int64, resp *recommendResponse) (candidates.Query, int) {
	seedItems, seedValues, seedTimes := s.seed.get(uid)
	start := time.Now()
	var err error
	sc.live, err = s.store.History(ctx, req.UserID, sc.live)
	if err != nil {
		s.metrics.historyCalls.WithLabelValues("read", "error").Observe(time.Since(start).Seconds())
		s.metrics.errors.WithLabelValues("history_unavailable").Inc()
		resp.Warnings = append(resp.Warnings, warnNoLiveHistory)
		sc.live = sc.live[:0]
	} else {
		s.metrics.historyCalls.WithLabelValues("read", "ok").Observe(time.Since(start).Seconds())
	}
	n := len(seedItems) + len(sc.live) + len(req.History)
	sc.items, sc.values, sc.times = make([]int32, 0, n), make([]float32, 0, n), make([]int64, 0, n)
	sc.items = append(sc.items, seedItems...)
	sc.values = append(sc.values, seedValues...)
	sc.times = append(sc.times, seedTimes...)
	sorted := true
	for _, e := range sc.live {
		if len(sc.times) > 0 && e.Time < sc.times[len(sc.times)-1] {
			sorted = false
		}
		sc.items = append(sc.items, e.Item)
		sc.values = append(sc.values, e.Value)
		sc.times = append(sc.times, e.Time)
	}
	if !sorted {
		// Events may arrive out of order; models read the history oldest first.
		idx := make([]int, len(sc.items))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(sc.times[a], sc.times[b]) })
		items, values, times := make([]int32, len(idx), n), make([]float32, len(idx), n), make([]int64, len(idx), n)
		for i, j := range idx {
			items[i], values[i], times[i] = sc.items[j], sc.values[j], sc.times[j]
		}
		sc.items, sc.values, sc.times = items, values, times
	}
	if drop := len(sc.items) - s.cfg.History.PerUser; drop > 0 {
		sc.items, sc.values, sc.times = sc.items[drop:], sc.values[drop:], sc.times[drop:]
	}
	unknown := 0
	nan := float32(math.NaN())
	for _, id := range req.History {
		it, ok := s.catalog.Lookup(id)
		if !ok {
			unknown++
			continue
		}
		sc.items = append(sc.items, it)
		sc.values = append(sc.values, nan)
		sc.times = append(sc.times, qt)
	}
	if unknown > 0 {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("%d history item(s) unknown to the catalog were ignored", unknown))
	}
	q := candidates.Query{User: uid, History: sc.items, HistoryTimes: sc.times, HistoryValues: sc.values, Time: qt}
	return q, len(sc.live)
}

// warnNoLiveHistory says that an answer was made without the live history. It names no
// address: the store's error is in the server's log.
const warnNoLiveHistory = "history_unavailable: the live history store did not answer; this answer uses the request's history and the data set's only"

// skipFunc leaves out the request's excluded items (unknown IDs cannot be recommended anyway).
func (s *Server) skipFunc(exclude []string) func(int32) bool {
	if len(exclude) == 0 {
		return nil
	}
	skip := make(map[int32]struct{}, len(exclude))
	for _, id := range exclude {
		if it, ok := s.catalog.Lookup(id); ok {
			skip[it] = struct{}{}
		}
	}
	return func(it int32) bool { _, ok := skip[it]; return ok }
}

// fillResponse converts a pipeline result into the answer's items and stages.
func (s *Server) fillResponse(resp *recommendResponse, res *pipeline.Result, k int) {
	items := res.Items[:min(k, len(res.Items))]
	pos := make(map[int32]int, len(items))
	resp.Items = make([]itemJSON, len(items))
	for i, c := range items {
		pos[c.Item] = i
		resp.Items[i] = itemJSON{ItemID: s.catalog.String(c.Item), Score: jsonFloat(c.Score), Rank: i + 1, Sources: map[string]int{}}
	}
	resp.Stages = make([]stageJSON, 0, len(res.Stages))
	for _, st := range res.Stages {
		resp.Stages = append(resp.Stages, stageJSON{Name: st.Name, MS: float64(st.Duration.Microseconds()) / 1000, In: st.In, Out: st.Out, Fallback: st.Fallback, Error: st.Err})
		s.metrics.stageLatency.WithLabelValues(st.Name).Observe(st.Duration.Seconds())
		if st.Fallback {
			s.metrics.fallbacks.WithLabelValues(st.Name).Inc()
		}
		if s.sources[st.Name] {
			for r, c := range st.Items {
				if i, ok := pos[c.Item]; ok {
					resp.Items[i].Sources[st.Name] = r + 1
				}
			}
		}
	}
	if ex := res.Explain; ex != nil {
		resp.FeatureNames = ex.FeatureNames
		resp.featureRows = make([][]jsonFloat, len(items))
		for _, ie := range ex.Items {
			i, ok := pos[ie.Item]
			if !ok {
				continue
			}
			it := &resp.Items[i]
			it.RankerScores = make(map[string]jsonFloat, len(ie.RankerScores))
			for name, v := range ie.RankerScores {
				it.RankerScores[name] = jsonFloat(v)
			}
			row := make([]jsonFloat, len(ie.Features))
			it.Features = make(map[string]jsonFloat, len(ie.Features))
			for j, v := range ie.Features {
				row[j] = jsonFloat(v)
				if j < len(ex.FeatureNames) {
					it.Features[ex.FeatureNames[j]] = jsonFloat(v)
				}
			}
			resp.featureRows[i] = row
		}
	}
}

// logServed queues the served list for the served log.
func (s *Server) logServed(resp *recommendResponse, req recommendRequest, qt int64, now time.Time) {
	if s.served == nil {
		return
	}
	e := &servedlog.Entry{
		RequestID: resp.RequestID, Time: now.UTC(), QueryTime: qt, User: req.UserID, UserKnown: resp.UserKnown,
		ModelVersion: resp.ModelVersion, Variant: resp.Variant, HistoryLen: resp.HistoryLen, Fallback: resp.Fallback, Degraded: resp.Degraded,
		Stages: resp.Stages, Items: make([]servedlog.Item, len(resp.Items)),
	}
	withFeatures := (req.Explain || s.cfg.ServedLog.Features) && resp.featureRows != nil
	if withFeatures {
		e.FeatureNames = resp.FeatureNames
	}
	for i, it := range resp.Items {
		e.Items[i] = servedlog.Item{ItemID: it.ItemID, Position: it.Rank, Score: it.Score, Sources: it.Sources}
		if withFeatures {
			e.Items[i].Features = resp.featureRows[i]
		}
	}
	s.served.add(e)
}

// handleEvents answers POST /v1/events.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	evs, aerr := decodeEvents(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), s.lim, time.Now().Unix())
	if aerr != nil {
		s.fail(w, r, aerr)
		return
	}
	batch := make([]history.Event, len(evs))
	for i, e := range evs {
		batch[i] = history.Event{User: e.UserID, Item: e.ItemID, Time: int64(*e.Timestamp), Value: float32(math.NaN())}
		if e.Value != nil {
			batch[i].Value = float32(*e.Value)
		}
	}
	start := time.Now()
	unknown, err := s.store.Append(r.Context(), batch)
	if err != nil {
		s.metrics.historyCalls.WithLabelValues("append", "error").Observe(time.Since(start).Seconds())
		if r.Context().Err() != nil {
			s.metrics.errors.WithLabelValues("canceled").Inc()
			return
		}
		if errors.Is(err, history.ErrUnavailable) {
			// The cause (an address, a Redis error) is logged by the store, not told to clients.
			w.Header().Set("Retry-After", "1")
			s.fail(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: "history_unavailable", Msg: "events not recorded: the live history store is unavailable; retry later"})
			return
		}
		s.fail(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: "store", Msg: "events not recorded: " + err.Error()})
		return
	}
	s.metrics.historyCalls.WithLabelValues("append", "ok").Observe(time.Since(start).Seconds())
	s.metrics.events.Add(float64(len(batch)))
	s.metrics.unknownItems.Add(float64(unknown))
	resp := eventsResponse{Accepted: len(batch), UnknownItems: unknown}
	if unknown > 0 {
		seen := map[string]bool{}
		for _, e := range batch {
			if _, ok := s.catalog.Lookup(e.Item); !ok && !seen[e.Item] && len(resp.UnknownItemIDs) < 10 {
				seen[e.Item] = true
				resp.UnknownItemIDs = append(resp.UnknownItemIDs, e.Item)
			}
		}
		resp.Warnings = []string{fmt.Sprintf("%d event(s) name items the catalog does not know: stored, but no model uses them until a retrain that includes them", unknown)}
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleSimilar answers GET /v1/items/{id}/similar?k=.
func (s *Server) handleSimilar(w http.ResponseWriter, r *http.Request) {
	id := pathID(r)
	k := defaultK
	if v := r.URL.Query().Get("k"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.fail(w, r, badRequest("k", "%q is not an integer", v))
			return
		}
		k = n
	}
	if k < 1 || k > s.lim.maxK {
		s.fail(w, r, badRequest("k", "k = %d is outside [1, %d]", k, s.lim.maxK))
		return
	}
	b := s.cur.Load()
	if b == nil {
		s.fail(w, r, unavailable())
		return
	}
	it, ok := s.catalog.Lookup(id)
	if !ok {
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "unknown_item", Field: "id", Msg: fmt.Sprintf("item %q is not in the catalog", id)})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	items, err := b.p.Similar(ctx, it, k)
	switch {
	case errors.Is(err, pipeline.ErrUnknownItem):
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "unknown_item", Field: "id", Msg: fmt.Sprintf("item %q first appears after the bundle's training window and was not added with attributes (POST /v1/items): the models have no embedding for it", id)})
		return
	case errors.Is(err, pipeline.ErrNoEmbeddings):
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: "no_embeddings", Msg: "similar items need a pipeline with a twotower model: " + err.Error()})
		return
	case r.Context().Err() != nil:
		s.metrics.errors.WithLabelValues("canceled").Inc()
		return
	case errors.Is(err, context.DeadlineExceeded):
		s.fail(w, r, &apiError{Status: http.StatusServiceUnavailable, Code: "deadline", Msg: "similar items ran out of the request deadline"})
		return
	case err != nil:
		s.fail(w, r, &apiError{Status: http.StatusInternalServerError, Code: "internal", Msg: err.Error()})
		return
	}
	resp := similarResponse{RequestID: requestIDOf(r.Context()), ModelVersion: b.version, ItemID: id, Items: make([]similarItem, len(items))}
	for i, c := range items {
		resp.Items[i] = similarItem{ItemID: s.catalog.String(c.Item), Score: jsonFloat(c.Score), Rank: i + 1}
	}
	writeJSON(w, http.StatusOK, resp)
}

// clock is the request time of a recommendation without context.time: the data set's last event
// time under --clock data (so that recency features of a historical log stay where training put
// them), the wall clock under --clock wall.
func (s *Server) clock(now time.Time) int64 {
	if s.cfg.Clock == ClockData && len(s.cfg.Dataset.Events) > 0 {
		return s.cfg.Dataset.Events[len(s.cfg.Dataset.Events)-1].Time
	}
	return now.Unix()
}
