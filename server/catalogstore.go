package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cascade-rec/cascade/pipeline"
)

// fileCatalog keeps catalog changes in a log on this machine: one JSON record per line (the body
// POST /v1/items takes), written and fsynced before a change is acknowledged. At start the last
// record of each item wins; a torn last line (a crash mid-write) is cut, and the log is
// rewritten (temporary file, fsync, rename) when it holds more than twice as many records as
// items. With an empty path the catalog lives in memory only.
type fileCatalog struct {
	path  string
	log   *slog.Logger
	mu    sync.Mutex
	f     *os.File
	state []pipeline.CatalogItem
}

func openFileCatalog(path string, log *slog.Logger) (*fileCatalog, error) {
	c := &fileCatalog{path: path, log: log}
	if path == "" {
		return c, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("catalog log: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("catalog log: %w", err)
	}
	last := map[string]int{}
	records, bad := 0, 0
	for line := range bytes.Lines(data) {
		if line[len(line)-1] != '\n' {
			bad++ // torn by a crash mid-write: never acknowledged
			break
		}
		it, err := parseRecord(line)
		if err != nil {
			bad++
			log.Warn("catalog log: a damaged record was skipped", "path", path, "record", trimRecord(line), "err", err)
			continue
		}
		records++
		if i, ok := last[it.ID]; ok {
			c.state[i] = it
		} else {
			last[it.ID] = len(c.state)
			c.state = append(c.state, it)
		}
	}
	if bad > 0 || records > 2*len(c.state)+64 {
		if err := c.rewrite(); err != nil {
			return nil, err
		}
	}
	if c.f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return nil, fmt.Errorf("catalog log: %w", err)
	}
	log.Info("catalog log", "path", path, "items", len(c.state), "records", records)
	return c, nil
}

// rewrite replaces the log by one record per item, atomically.
func (c *fileCatalog) rewrite() error {
	var buf bytes.Buffer
	for _, it := range c.state {
		b, err := recordOf(it)
		if err != nil {
			return err
		}
		buf.Write(append(b, '\n'))
	}
	tmp := c.path + ".tmp"
	if err := writeSynced(tmp, buf.Bytes()); err != nil {
		return fmt.Errorf("catalog log: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("catalog log: %w", err)
	}
	if d, err := os.Open(filepath.Dir(c.path)); err == nil {
		d.Sync() // the rename itself
		d.Close()
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (c *fileCatalog) load(context.Context) ([]pipeline.CatalogItem, error) { return c.state, nil }

func (c *fileCatalog) save(_ context.Context, items []pipeline.CatalogItem) error {
	if c.f == nil {
		return nil
	}
	var buf bytes.Buffer
	for _, it := range items {
		b, err := recordOf(it)
		if err != nil {
			return err
		}
		buf.Write(append(b, '\n'))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("%w: %w", errCatalogUnavailable, err)
	}
	if err := c.f.Sync(); err != nil {
		return fmt.Errorf("%w: %w", errCatalogUnavailable, err)
	}
	return nil
}

func (c *fileCatalog) watch(context.Context, func([]pipeline.CatalogItem)) {}

func (c *fileCatalog) close() error {
	if c.f == nil {
		return nil
	}
	return c.f.Close()
}

// redisCatalog keeps the catalog in Redis for a fleet: a hash PREFIX+"catalog:items" (item ID →
// record) is the state a starting replica loads, and every change is published on
// PREFIX+"catalog:changes" (a JSON array of item IDs) in the same transaction. A replica applies
// what the hash holds for the IDs it is told about, so concurrent writers of one item converge on
// the hash's last value; after a lost connection it reloads the whole hash, since messages
// published meanwhile were not delivered.
type redisCatalog struct {
	rdb           *redis.Client
	hash, channel string
	log           *slog.Logger
	// onApplied counts the items applied from the store.
	onApplied func(n int)
}

// catalogKeys are the Redis keys of the catalog under a prefix.
func catalogKeys(prefix string) (hash, channel string) {
	return prefix + "catalog:items", prefix + "catalog:changes"
}

func openRedisCatalog(url, prefix string, log *slog.Logger) (*redisCatalog, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("server: catalog store: %w", err)
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = 250*time.Millisecond, 2*time.Second, 2*time.Second
	o.ContextTimeoutEnabled, o.MaxRetries, o.PoolSize = true, -1, 4
	o.DisableIdentity = true
	if prefix == "" {
		prefix = "cascade:"
	}
	hash, channel := catalogKeys(prefix)
	return &redisCatalog{rdb: redis.NewClient(o), hash: hash, channel: channel, log: log}, nil
}

func (c *redisCatalog) load(ctx context.Context) ([]pipeline.CatalogItem, error) {
	m, err := c.rdb.HGetAll(ctx, c.hash).Result()
	if err != nil {
		return nil, fmt.Errorf("%w: HGETALL %s: %w", errCatalogUnavailable, c.hash, err)
	}
	out := make([]pipeline.CatalogItem, 0, len(m))
	for id, rec := range m {
		it, err := parseRecord([]byte(rec))
		if err != nil || it.ID != id {
			c.log.Error("catalog store: a damaged record in Redis was skipped", "key", c.hash, "item", id, "err", err)
			continue
		}
		out = append(out, it)
	}
	return out, nil
}

func (c *redisCatalog) save(ctx context.Context, items []pipeline.CatalogItem) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	fields := make([]any, 0, 2*len(items))
	ids := make([]string, len(items))
	for i, it := range items {
		b, err := recordOf(it)
		if err != nil {
			return err
		}
		fields = append(fields, it.ID, b)
		ids[i] = it.ID
	}
	msg, _ := json.Marshal(ids)
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, c.hash, fields...)
		p.Publish(ctx, c.channel, msg)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errCatalogUnavailable, err)
	}
	return nil
}

// watch applies the fleet's changes until ctx ends.
func (c *redisCatalog) watch(ctx context.Context, apply func([]pipeline.CatalogItem)) {
	ps := c.rdb.Subscribe(ctx, c.channel)
	defer ps.Close()
	down := false
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !down {
				c.log.Error("catalog store: lost the change feed; catalog changes of other replicas wait until it is back", "err", err)
				down = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// (Re)subscribed: changes published while the feed was down were not delivered.
			items, err := c.load(ctx)
			if err != nil {
				c.log.Error("catalog store: reloading the catalog failed", "err", err)
				continue
			}
			if down {
				c.log.Info("catalog store: the change feed is back; the catalog was reloaded", "items", len(items))
				down = false
			}
			c.applied(apply, items)
		case *redis.Message:
			var ids []string
			if err := json.Unmarshal([]byte(m.Payload), &ids); err != nil || len(ids) == 0 {
				c.log.Error("catalog store: a malformed change message was skipped", "channel", m.Channel, "payload", trimRecord([]byte(m.Payload)))
				continue
			}
			items, err := c.fetch(ctx, ids)
			if err != nil {
				c.log.Error("catalog store: reading changed items failed; they apply at the next reload of the feed", "err", err)
				continue
			}
			c.applied(apply, items)
		}
	}
}

func (c *redisCatalog) applied(apply func([]pipeline.CatalogItem), items []pipeline.CatalogItem) {
	if len(items) == 0 {
		return
	}
	apply(items)
	if c.onApplied != nil {
		c.onApplied(len(items))
	}
}

// fetch reads the current records of ids.
func (c *redisCatalog) fetch(ctx context.Context, ids []string) ([]pipeline.CatalogItem, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	vals, err := c.rdb.HMGet(ctx, c.hash, ids...).Result()
	if err != nil {
		return nil, err
	}
	var out []pipeline.CatalogItem
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // deleted from the hash by hand
		}
		it, err := parseRecord([]byte(s))
		if err != nil || it.ID != ids[i] {
			c.log.Error("catalog store: a damaged record in Redis was skipped", "key", c.hash, "item", ids[i], "err", err)
			continue
		}
		out = append(out, it)
	}
	return out, nil
}

func (c *redisCatalog) close() error { return c.rdb.Close() }
