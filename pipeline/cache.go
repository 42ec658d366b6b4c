package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cascade-rec/cascade/candidates/twotower"
	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/ranker"
)

// ModelCache keeps trained first-stage models on disk, keyed by everything that determines them:
// the model type and its parameters, the training window (a fingerprint of the events it saw, the
// catalog and the item attributes), the worker count, and the code that trains them (a hash of the
// running executable). A model whose key is there is loaded instead of trained, so grids, refits,
// the stack selection's inner window and the files of `replay --compare` never train the same
// model twice, within a run or across runs. It is safe for concurrent use.
type ModelCache struct {
	dir          string
	mu           sync.Mutex
	windows      map[windowRef]string // window fingerprints already computed
	hits, misses atomic.Int64
}

// windowRef names an events slice by its first element and length: training windows are
// prefixes of one time-ordered log, so this identifies one without hashing it again.
type windowRef struct {
	first *dataset.Event
	n     int
	ds    *dataset.Dataset
}

// OpenModelCache opens (creating) a cache directory.
func OpenModelCache(dir string) (*ModelCache, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("model cache: %w", err)
	}
	return &ModelCache{dir: dir, windows: map[windowRef]string{}}, nil
}

// Stats returns the cache's hits and misses so far.
func (c *ModelCache) Stats() (hits, misses int64) { return c.hits.Load(), c.misses.Load() }

// codeVersion hashes the running executable: any change to the code that trains models changes
// it, so a cache never serves a model trained by other code.
var codeVersion = sync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
})

// trainModel trains a model of type typ on env with params, through the cache when there is one.
// It reports whether the model came from the cache.
func trainModel(ctx context.Context, cache *ModelCache, typ string, env TrainEnv, params any) (Model, bool, error) {
	kind, ok := kinds[typ]
	if !ok {
		return nil, false, fmt.Errorf("unknown model type %q", typ)
	}
	if cache == nil {
		m, err := kind.train(ctx, env, params)
		return m, false, err
	}
	key, err := cache.key(typ, env, params)
	if err != nil {
		return nil, false, err
	}
	path := filepath.Join(cache.dir, key+"."+typ)
	if _, err := os.Stat(path); err == nil {
		m, err := kind.load(path)
		if err == nil {
			cache.hits.Add(1)
			logOf(env).Debug("model cache hit", "type", typ, "key", key[:12])
			return m, true, nil
		}
		// A damaged entry is retrained and replaced.
		logOf(env).Warn("model cache entry unreadable; retraining", "path", path, "err", err)
	}
	cache.misses.Add(1)
	m, err := kind.train(ctx, env, params)
	if err != nil {
		return nil, false, err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
	if _, err := m.Save(tmp); err != nil {
		os.Remove(tmp)
		return nil, false, fmt.Errorf("model cache: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, false, fmt.Errorf("model cache: %w", err)
	}
	return m, false, nil
}

func logOf(env TrainEnv) *slog.Logger {
	if env.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return env.Logger
}

// key hashes what determines a trained model.
func (c *ModelCache) key(typ string, env TrainEnv, params any) (string, error) {
	code, err := codeVersion()
	if err != nil {
		return "", fmt.Errorf("model cache: the code's version: %w", err)
	}
	p, err := json.Marshal(params)
	if err != nil {
		return "", fmt.Errorf("model cache: parameters of %s: %w", typ, err)
	}
	workers := env.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	h := sha256.New()
	fmt.Fprintf(h, "cascade-model-cache-v1\x00%s\x00%s\x00%s\x00%d\x00%d\x00%d\x00", code, typ, p, workers, env.NumUsers, env.NumItems)
	if env.Weights != nil || env.Targets != nil { // keys without event types stay as they were
		fmt.Fprintf(h, "events\x00%v\x00%v\x00", env.Weights, env.Targets)
	}
	h.Write([]byte(c.window(env)))
	if tp, ok := params.(*twotower.Params); ok && tp.Examples == twotower.ExamplesImpressions {
		hashImpressions(h, env.Impressions) // a new log is new training data
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashImpressions writes every slate of a log: its user, time, items and clicks.
func hashImpressions(h io.Writer, imps []ranker.Impression) {
	fmt.Fprintf(h, "impressions\x00%d\x00", len(imps))
	for _, imp := range imps {
		fmt.Fprintf(h, "%d %d", imp.Query.User, imp.Query.Time)
		for _, s := range imp.Shown {
			fmt.Fprintf(h, " %d:%t", s.Item, s.Clicked)
		}
		h.Write([]byte{0})
	}
}

// window fingerprints env's events and the catalog they index: every event, the item IDs and
// the item attributes (which the two-tower's item tower reads).
func (c *ModelCache) window(env TrainEnv) string {
	ref := windowRef{n: len(env.Events), ds: env.Dataset}
	if len(env.Events) > 0 {
		ref.first = &env.Events[0]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if fp, ok := c.windows[ref]; ok {
		return fp
	}
	h := sha256.New()
	hashEvents(h, env.Events, true)
	if ds := env.Dataset; ds != nil {
		hashTypes(h, ds, env.Events)
		for _, id := range ds.Items.IDs()[:min(env.NumItems, ds.NumItems())] {
			h.Write([]byte(id))
			h.Write([]byte{0})
		}
		if attrs, err := json.Marshal(ds.ItemAttrs); err == nil {
			h.Write(attrs)
		}
	}
	fp := hex.EncodeToString(h.Sum(nil))
	c.windows[ref] = fp
	return fp
}
