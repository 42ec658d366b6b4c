package server

import (
	"github.com/cascade-rec/cascade/server/history"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series, on a registry of its own (no global state: two
// servers in one process, as in tests, do not collide).
type metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec   // route, code
	latency      *prometheus.HistogramVec // route
	stageLatency *prometheus.HistogramVec // stage
	fallbacks    *prometheus.CounterVec   // stage
	errors       *prometheus.CounterVec   // class
	answers      *prometheus.CounterVec   // kind: personal | fallback | degraded
	modelInfo    *prometheus.GaugeVec     // version, pipeline, created, dataset
	reloads      *prometheus.CounterVec   // result
	inFlight     prometheus.Gauge
	events       prometheus.Counter
	unknownItems prometheus.Counter
	// catalogChanges counts items changed through this replica's POST/DELETE /v1/items;
	// catalogApplied those applied from the fleet's catalog store (other replicas' included).
	catalogChanges, catalogApplied prometheus.Counter
	historyCalls                   *prometheus.HistogramVec // op: read | append; result: ok | error
}

// newMetrics registers the server's series, the history store's (storeMetrics) and the served
// log's.
func newMetrics(storeMetrics prometheus.Collector, served *servedLog) *metrics {
	latencyBuckets := prometheus.ExponentialBuckets(0.00025, 2, 13) // 0.25 ms to about 1 s
	m := &metrics{
		reg:            prometheus.NewRegistry(),
		requests:       newCounterVec("cascade_http_requests_total", "HTTP requests by route and status code.", "route", "code"),
		latency:        newHistogramVec("cascade_http_request_duration_seconds", "HTTP request latency by route.", latencyBuckets, "route"),
		stageLatency:   newHistogramVec("cascade_stage_duration_seconds", "Pipeline stage latency per recommendation (fallback: the non-personal list).", latencyBuckets, "stage"),
		fallbacks:      newCounterVec("cascade_stage_fallbacks_total", "Stages that failed or ran out of budget and used their declared fallback.", "stage"),
		errors:         newCounterVec("cascade_errors_total", "Errors by class (bad_request, body_too_large, not_found, no_embeddings, unavailable, deadline, overload, pipeline, canceled, store, history_unavailable, internal, panic, reload).", "class"),
		answers:        newCounterVec("cascade_recommendations_total", "Recommendations by kind: personal (the pipeline), fallback (no known item in the history), degraded (deadline, overload or pipeline error: the fallback list answered).", "kind"),
		modelInfo:      newGaugeVec("cascade_model_info", "The model bundle being served (value 1).", "version", "pipeline", "created", "dataset"),
		reloads:        newCounterVec("cascade_reloads_total", "Model bundle loads by result (ok, refused).", "result"),
		inFlight:       newGauge("cascade_recommend_in_flight", "Recommendations being answered (running or waiting for a pipeline slot)."),
		events:         newCounter("cascade_events_ingested_total", "Events accepted by POST /v1/events."),
		catalogChanges: newCounter("cascade_catalog_changes_total", "Items added, updated or removed through this replica (POST/DELETE /v1/items)."),
		catalogApplied: newCounter("cascade_catalog_applied_total", "Item changes applied from the catalog store (every replica's, this one's included)."),
		unknownItems:   newCounter("cascade_events_unknown_items_total", "Accepted events whose item the catalog does not know (logged, unused by models)."),
		historyCalls:   newHistogramVec("cascade_history_call_duration_seconds", "Calls to the live history store (read: a recommendation's live history; append: POST /v1/events) by result.", latencyBuckets, "op", "result"),
	}
	m.reg.MustRegister(m.requests, m.latency, m.stageLatency, m.fallbacks, m.errors, m.answers,
		m.modelInfo, m.reloads, m.inFlight, m.events, m.unknownItems, m.historyCalls, m.catalogChanges, m.catalogApplied,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(storeMetrics)
	if served != nil {
		m.reg.MustRegister(newCounterFunc("cascade_served_log_written_total", "Served lists written to the served log (lines the file took, rotated files included).", func() float64 { return float64(served.written.Load()) }))
		m.reg.MustRegister(newCounterFunc("cascade_served_log_dropped_total", "Served lists never written: the served log's queue was full (the disk fell behind or failed), or the disk still failed at shutdown.", func() float64 { return float64(served.dropped.Load()) }))
		m.reg.MustRegister(newCounterFunc("cascade_served_log_write_errors_total", "Failed writes, reopens and rotations of the served log (it retries every second; lines wait in its queue meanwhile).", func() float64 { return float64(served.writeErrors.Load()) }))
	}
	return m
}

// newStoreCollector reports the history store's size with one Stats call per scrape.
func newStoreCollector(store *history.Store) *statsCollector[history.Stats] {
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	d := newStatDesc[history.Stats]
	return &statsCollector[history.Stats]{stats: store.Stats, descs: []statDesc[history.Stats]{
		d("cascade_history_users", "Users in the live history store's memory.", gauge, func(s history.Stats) float64 { return float64(s.Users) }),
		d("cascade_history_events", "Events in the live history store's memory.", gauge, func(s history.Stats) float64 { return float64(s.Events) }),
		d("cascade_history_bytes", "Memory accounted by the live history store.", gauge, func(s history.Stats) float64 { return float64(s.Bytes) }),
		d("cascade_history_max_bytes", "The live history store's memory bound.", gauge, func(s history.Stats) float64 { return float64(s.MaxBytes) }),
		d("cascade_history_evicted_users_total", "Users evicted from memory by the bound (their events stay in the log and are read back when they return).", counter, func(s history.Stats) float64 { return float64(s.Evicted) }),
		d("cascade_history_read_back_users_total", "Returning users whose history was read back from the log.", counter, func(s history.Stats) float64 { return float64(s.ReadBack) }),
		d("cascade_history_log_bytes", "Size of the event log on disk.", gauge, func(s history.Stats) float64 { return float64(s.LogBytes) }),
		d("cascade_history_log_max_bytes", "The event log's size bound.", gauge, func(s history.Stats) float64 { return float64(s.MaxLogBytes) }),
		d("cascade_history_log_dropped_users_total", "Least recently active users compaction left out of the log to keep it within its bound.", counter, func(s history.Stats) float64 { return float64(s.DroppedUsers) }),
		d("cascade_history_log_dropped_events_total", "Their events.", counter, func(s history.Stats) float64 { return float64(s.DroppedEvents) }),
		d("cascade_history_log_damaged_runs_total", "Damaged runs of the event log skipped (each held at least one record or the header; the file as found is kept aside as events.log.damaged-*).", counter, func(s history.Stats) float64 { return float64(s.DamagedRuns) }),
		d("cascade_history_log_damaged_bytes_total", "Bytes in those runs.", counter, func(s history.Stats) float64 { return float64(s.DamagedBytes) }),
	}}
}

// The constructors below keep each series' definition to one line: name, help, labels.

func newCounter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

func newCounterFunc(name, help string, value func() float64) prometheus.CounterFunc {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, value)
}

func newGauge(name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
}

func newCounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func newGaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
}

func newHistogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
}
