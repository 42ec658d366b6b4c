package server

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cascade-rec/cascade/server/history"
)

// HistoryStore is the live history the server reads and writes: the file log on this machine
// (history.Store, the default), or Redis shared by every replica (history.RedisStore, chosen by
// Config.Redis.URL).
type HistoryStore interface {
	// History appends the user's live events, oldest first, to dst[:0]. An error (the store is
	// unavailable) leaves the request to be answered without them.
	History(ctx context.Context, user string, dst []history.Entry) ([]history.Entry, error)
	// Append records events and returns once they are stored as durably as the store
	// promises, with the number whose item the catalog does not know.
	Append(ctx context.Context, evs []history.Event) (unknown int, err error)
	Close() error
}

// fileStore is the file log as a HistoryStore: it reads from memory and cannot fail.
type fileStore struct{ *history.Store }

func (f fileStore) History(_ context.Context, user string, dst []history.Entry) ([]history.Entry, error) {
	return f.Store.History(user, dst), nil
}

// openStore opens the configured store and the collector of its metrics.
func openStore(ctx context.Context, cfg *Config) (HistoryStore, prometheus.Collector, error) {
	if cfg.Redis.URL != "" {
		rs, err := history.OpenRedis(ctx, cfg.Redis)
		if err != nil {
			return nil, nil, err
		}
		return rs, newRedisCollector(rs), nil
	}
	fs, err := history.Open(cfg.History)
	if err != nil {
		return nil, nil, err
	}
	return fileStore{fs}, newStoreCollector(fs), nil
}
