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
}

func newMetrics(store *history.Store, served *servedLog) *metrics {
	latencyBuckets := prometheus.ExponentialBuckets(0.00025, 2, 13) // 0.25 ms to about 1 s
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cascade_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cascade_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: latencyBuckets,
		}, []string{"route"}),
		stageLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cascade_stage_duration_seconds", Help: "Pipeline stage latency per recommendation (fallback: the non-personal list).", Buckets: latencyBuckets,
		}, []string{"stage"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cascade_stage_fallbacks_total", Help: "Stages that failed or ran out of budget and used their declared fallback.",
		}, []string{"stage"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cascade_errors_total", Help: "Errors by class (bad_request, body_too_large, not_found, no_embeddings, unavailable, deadline, overload, pipeline, canceled, store, internal, panic, reload).",
		}, []string{"class"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cascade_recommendations_total", Help: "Recommendations by kind: personal (the pipeline), fallback (no known item in the history), degraded (deadline, overload or pipeline error: the fallback list answered).",
		}, []string{"kind"}),
		modelInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cascade_model_info", Help: "The model bundle being served (value 1).",
		}, []string{"version", "pipeline", "created", "dataset"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cascade_reloads_total", Help: "Model bundle loads by result (ok, refused).",
		}, []string{"result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cascade_recommend_in_flight", Help: "Recommendations being answered (running or waiting for a pipeline slot).",
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cascade_events_ingested_total", Help: "Events accepted by POST /v1/events.",
		}),
		unknownItems: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cascade_events_unknown_items_total", Help: "Accepted events whose item the catalog does not know (logged, unused by models).",
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.stageLatency, m.fallbacks, m.errors, m.answers,
		m.modelInfo, m.reloads, m.inFlight, m.events, m.unknownItems,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(newStoreCollector(store))
	if served != nil {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cascade_served_log_written_total", Help: "Served lists written to the served log.",
		}, func() float64 { return float64(served.written.Load()) }))
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cascade_served_log_dropped_total", Help: "Served lists dropped because the served log's queue was full.",
		}, func() float64 { return float64(served.dropped.Load()) }))
	}
	return m
}

// storeCollector reports the history store's size with one Stats call per scrape.
type storeCollector struct {
	store                                     *history.Store
	users, events, bytes, bound, evicted, log *prometheus.Desc
}

func newStoreCollector(store *history.Store) *storeCollector {
	return &storeCollector{
		store:   store,
		users:   prometheus.NewDesc("cascade_history_users", "Users in the live history store's memory.", nil, nil),
		events:  prometheus.NewDesc("cascade_history_events", "Events in the live history store's memory.", nil, nil),
		bytes:   prometheus.NewDesc("cascade_history_bytes", "Memory accounted by the live history store.", nil, nil),
		bound:   prometheus.NewDesc("cascade_history_max_bytes", "The live history store's memory bound.", nil, nil),
		evicted: prometheus.NewDesc("cascade_history_evicted_users_total", "Users evicted from memory by the bound (their events stay in the log).", nil, nil),
		log:     prometheus.NewDesc("cascade_history_log_bytes", "Size of the event log on disk.", nil, nil),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.users, c.events, c.bytes, c.bound, c.evicted, c.log} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.store.Stats()
	ch <- prometheus.MustNewConstMetric(c.users, prometheus.GaugeValue, float64(st.Users))
	ch <- prometheus.MustNewConstMetric(c.events, prometheus.GaugeValue, float64(st.Events))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(c.bound, prometheus.GaugeValue, float64(st.MaxBytes))
	ch <- prometheus.MustNewConstMetric(c.evicted, prometheus.CounterValue, float64(st.Evicted))
	ch <- prometheus.MustNewConstMetric(c.log, prometheus.GaugeValue, float64(st.LogBytes))
}
