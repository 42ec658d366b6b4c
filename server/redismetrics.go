package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cascade-rec/cascade/server/history"
)

// newRedisCollector reports the Redis history store's traffic with one Stats call per scrape.
func newRedisCollector(store *history.RedisStore) *statsCollector[history.RedisStats] {
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	d := newStatDesc[history.RedisStats]
	return &statsCollector[history.RedisStats]{stats: store.Stats, descs: []statDesc[history.RedisStats]{
		d("cascade_history_redis_up", "0 during an outage of the Redis history store: calls failing for a second or more with no success between them, or a refused connection (each outage is logged once, with its cause).", gauge, func(s history.RedisStats) float64 {
			if s.Up {
				return 1
			}
			return 0
		}),
		d("cascade_history_redis_appended_total", "Events Redis acknowledged.", counter, func(s history.RedisStats) float64 { return float64(s.Appended) }),
		d("cascade_history_redis_append_errors_total", "Appends that failed (the request answered 503 history_unavailable).", counter, func(s history.RedisStats) float64 { return float64(s.AppendErrors) }),
		d("cascade_history_redis_read_errors_total", "History reads that failed (the recommendation answered without the live history, with a warning).", counter, func(s history.RedisStats) float64 { return float64(s.ReadErrors) }),
		d("cascade_history_redis_connections", "Connections to Redis open.", gauge, func(s history.RedisStats) float64 { return float64(s.Conns) }),
		d("cascade_history_redis_idle_connections", "Connections to Redis idle.", gauge, func(s history.RedisStats) float64 { return float64(s.IdleConns) }),
		d("cascade_history_redis_pool_timeouts_total", "Calls that found no free connection before their deadline.", counter, func(s history.RedisStats) float64 { return float64(s.PoolTimeouts) }),
		d("cascade_history_per_user", "Events kept per user.", gauge, func(s history.RedisStats) float64 { return float64(s.PerUser) }),
	}}
}
