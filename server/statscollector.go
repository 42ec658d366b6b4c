package server

import "github.com/prometheus/client_golang/prometheus"

// statsCollector reports a history store's counters with one Stats call per scrape, every
// series read from the same snapshot. The file store and the Redis store both report through
// it; they differ only in their Stats type and the series they list.
type statsCollector[S any] struct {
	stats func() S
	descs []statDesc[S]
}

// statDesc is one series of a statsCollector and how to read it from a snapshot.
type statDesc[S any] struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(S) float64
}

// newStatDesc describes an unlabelled series.
func newStatDesc[S any](name, help string, kind prometheus.ValueType, v func(S) float64) statDesc[S] {
	return statDesc[S]{prometheus.NewDesc(name, help, nil, nil), kind, v}
}

func (c *statsCollector[S]) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d.desc
	}
}

func (c *statsCollector[S]) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for _, d := range c.descs {
		ch <- prometheus.MustNewConstMetric(d.desc, d.kind, d.value(st))
	}
}
