package history

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable wraps every failure of a store that depends on a server (Redis down, hung,
// refusing writes, or slower than its timeout): the events were not recorded, or the history
// could not be read. Callers answer with a retryable error (events) or without the live history
// (recommendations).
var ErrUnavailable = errors.New("the live history store is unavailable")

// RedisOptions configure a RedisStore.
type RedisOptions struct {
	// URL names the server: redis://[user:password@]host:port/db (rediss:// for TLS).
	URL string
	// Prefix starts every key (default "cascade:"); a user's history is PREFIX + "history:" +
	// user ID.
	Prefix string
	// PerUser is how many of a user's latest events the list keeps (default 200).
	PerUser int
	// TTL, when positive, expires a user's history TTL after their latest event.
	TTL time.Duration
	// ReadTimeout bounds a history read, within the caller's deadline (default 25 ms): a
	// recommendation waits no longer for the live history before answering without it.
	ReadTimeout time.Duration
	// WriteTimeout bounds an append, within the caller's deadline (default 2 s).
	WriteTimeout time.Duration
	// DialTimeout bounds a connection attempt (default 250 ms).
	DialTimeout time.Duration
	// PoolSize is the most connections kept open (default: go-redis's, 10 per CPU).
	PoolSize int
	// Catalog resolves item IDs; events of items it does not know are stored (a later catalog
	// may know them) but not returned by History.
	Catalog Catalog
	Logger  *slog.Logger
}

func (o *RedisOptions) defaults() (*redis.Options, error) {
	if o.Prefix == "" {
		o.Prefix = "cascade:"
	}
	if o.PerUser == 0 {
		o.PerUser = 200
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 25 * time.Millisecond
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 2 * time.Second
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 250 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	switch {
	case o.PerUser < 1:
		return nil, fmt.Errorf("history: per-user limit %d < 1", o.PerUser)
	case o.TTL < 0:
		return nil, fmt.Errorf("history: TTL %s is negative", o.TTL)
	case o.ReadTimeout < 0 || o.WriteTimeout < 0 || o.DialTimeout < 0:
		return nil, errors.New("history: negative Redis timeout")
	case o.PoolSize < 0:
		return nil, fmt.Errorf("history: Redis pool size %d < 0", o.PoolSize)
	case o.TTL > 0 && o.TTL < time.Millisecond:
		return nil, fmt.Errorf("history: TTL %s is below Redis's resolution of 1 ms", o.TTL)
	}
	ro, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("history: Redis URL %q: %w", redactURL(o.URL), err)
	}
	if ro.Network != "tcp" {
		return nil, fmt.Errorf("history: Redis URL %q: want redis://host:port/db or rediss://…", redactURL(o.URL))
	}
	ro.DialTimeout = o.DialTimeout
	ro.ReadTimeout = max(o.WriteTimeout, o.ReadTimeout) // socket bounds; each call's context is tighter
	ro.WriteTimeout = ro.ReadTimeout
	// Calls end at their context's deadline, not only at the socket timeouts.
	ro.ContextTimeoutEnabled = true
	// No retries: an append whose reply was lost may have been applied, and a retry would
	// store it twice; the caller sees the error and decides. One dial attempt per call, so
	// that a down server fails fast rather than after backoffs.
	ro.MaxRetries = -1
	ro.DialerRetries = 1
	ro.DisableIdentity = true // CLIENT SETINFO: one round trip less, and older servers refuse it
	if o.PoolSize > 0 {
		ro.PoolSize = o.PoolSize
	}
	return ro, nil
}

// redactURL hides a password in a URL that is about to be logged or returned.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// RedisStore keeps the live history in Redis, shared by every replica that uses the same
// server: each user's events are a list (oldest first) trimmed to PerUser entries atomically
// with every append. An append returns only after Redis answered it, so an acknowledged event
// is as durable as the server's persistence setting makes it (see docs/redis.md). It holds no
// events in memory. It is safe for concurrent use.
type RedisStore struct {
	opt RedisOptions
	rdb *redis.Client
	url string // redacted, for logs

	appended, unknown, appendErrors, readErrors atomic.Int64
	// The outage detector: failSince is when the current run of failed calls began (0 after a
	// success); down is set once that run is an outage (below), and logged once.
	failSince atomic.Int64
	down      atomic.Bool
}

// outageAfter: failed calls for this long with no success between them are an outage (a
// refused connection is one at once). Shorter runs (a slow read under load) are counted in
// Stats but not logged, so that the log does not flap.
const outageAfter = time.Second

// OpenRedis connects to the Redis server of opt.URL. A malformed URL or option is an error; a
// server that does not answer is not (the store reports ErrUnavailable until it does, and the
// outage is logged), so that replicas start while Redis restarts.
func OpenRedis(ctx context.Context, opt RedisOptions) (*RedisStore, error) {
	ro, err := opt.defaults()
	if err != nil {
		return nil, err
	}
	quietRedisLog.Do(func() { redis.SetLogger(redisLog{}) })
	s := &RedisStore{opt: opt, rdb: redis.NewClient(ro), url: redactURL(opt.URL)}
	pctx, cancel := context.WithTimeout(ctx, max(opt.DialTimeout, opt.ReadTimeout)+time.Second)
	defer cancel()
	if err := s.rdb.Ping(pctx).Err(); err != nil {
		s.failSince.Store(time.Now().UnixNano())
		s.markDown(err)
		return s, nil
	}
	s.logPersistence(pctx)
	opt.Logger.Info("history store: Redis", "url", s.url, "per_user", opt.PerUser, "ttl", opt.TTL)
	return s, nil
}

// logPersistence says what the server's persistence setting promises for acknowledged events
// (CONFIG may be disabled on managed servers: then nothing is said).
func (s *RedisStore) logPersistence(ctx context.Context) {
	cfg, err := s.rdb.ConfigGet(ctx, "append*").Result()
	if err != nil {
		return
	}
	switch {
	case cfg["appendonly"] != "yes":
		s.opt.Logger.Warn("Redis runs without an append-only file: acknowledged events since its last snapshot are lost if it stops uncleanly (see docs/redis.md)", "url", s.url)
	case cfg["appendfsync"] != "always":
		s.opt.Logger.Info("Redis append-only file with appendfsync "+cfg["appendfsync"]+": a power loss or kernel crash can lose about the last second of acknowledged events (see docs/redis.md)", "url", s.url)
	}
}

func (s *RedisStore) key(user string) string { return s.opt.Prefix + "history:" + user }

// Append records events. It returns after Redis has applied them, or with an error wrapping
// ErrUnavailable (nothing acknowledged; the batch may or may not have been applied when the
// reply was lost). Each user's events are appended and the list trimmed to PerUser in one
// transaction. The number of events whose item the catalog does not know is returned.
func (s *RedisStore) Append(ctx context.Context, evs []Event) (unknown int, err error) {
	if len(evs) == 0 {
		return 0, nil
	}
	// Group by user, keeping each user's order, so that one RPUSH takes each user's events.
	order := make([]string, 0, 1)
	byUser := make(map[string][]any, 1)
	for i, e := range evs {
		switch {
		case e.User == "":
			return 0, fmt.Errorf("history: event %d: empty user ID", i)
		case e.Item == "":
			return 0, fmt.Errorf("history: event %d: empty item ID", i)
		case len(e.User)+len(e.Item)+30 > maxPayload: // the file log's bound, so that either store takes the same events
			return 0, fmt.Errorf("history: event %d: IDs longer than %d bytes", i, maxPayload-30)
		}
		if _, ok := byUser[e.User]; !ok {
			order = append(order, e.User)
		}
		byUser[e.User] = append(byUser[e.User], encodeEntry(e))
		if s.opt.Catalog != nil {
			if _, ok := s.opt.Catalog.Lookup(e.Item); !ok {
				unknown++
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.WriteTimeout)
	defer cancel()
	cmds, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range order {
			k := s.key(u)
			p.RPush(ctx, k, byUser[u]...)
			p.LTrim(ctx, k, int64(-s.opt.PerUser), -1)
			if s.opt.TTL > 0 {
				p.PExpire(ctx, k, s.opt.TTL)
			}
		}
		return nil
	})
	if err == nil {
		for _, c := range cmds {
			if err = c.Err(); err != nil {
				break
			}
		}
	}
	if err != nil {
		s.appendErrors.Add(1)
		return 0, s.fail("append", err)
	}
	s.markUp()
	s.appended.Add(int64(len(evs)))
	s.unknown.Add(int64(unknown))
	return unknown, nil
}

// History appends the user's stored events of catalog items, oldest first, to dst[:0]. It waits
// at most ReadTimeout (and ctx); on failure it returns dst[:0] and an error wrapping
// ErrUnavailable.
func (s *RedisStore) History(ctx context.Context, userID string, dst []Entry) ([]Entry, error) {
	dst = dst[:0]
	ctx, cancel := context.WithTimeout(ctx, s.opt.ReadTimeout)
	defer cancel()
	vals, err := s.rdb.LRange(ctx, s.key(userID), int64(-s.opt.PerUser), -1).Result()
	if err != nil {
		s.readErrors.Add(1)
		return dst, s.fail("read", err)
	}
	s.markUp()
	for _, v := range vals {
		item, e, ok := decodeEntry(v)
		if !ok {
			continue // not written by Cascade: skipped, not fatal
		}
		if s.opt.Catalog == nil {
			continue
		}
		if id, ok := s.opt.Catalog.Lookup(item); ok {
			e.Item = id
			dst = append(dst, e)
		}
	}
	return dst, nil
}

// fail wraps a Redis error for the caller and logs the first failure of an outage.
func (s *RedisStore) fail(op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("history: Redis %s: %w", op, err) // the caller left: not an outage
	}
	now := time.Now().UnixNano()
	s.failSince.CompareAndSwap(0, now)
	if time.Duration(now-s.failSince.Load()) >= outageAfter || errors.Is(err, syscall.ECONNREFUSED) {
		s.markDown(err)
	}
	return fmt.Errorf("%w: Redis %s at %s: %w", ErrUnavailable, op, s.url, err)
}

func (s *RedisStore) markDown(err error) {
	if !s.down.Swap(true) {
		s.opt.Logger.Error("history store: Redis is unavailable; events are refused (503) and recommendations answer without the live history until it answers again", "url", s.url, "err", err)
	}
}

func (s *RedisStore) markUp() {
	since := s.failSince.Swap(0)
	if s.down.Swap(false) {
		s.opt.Logger.Info("history store: Redis answers again", "url", s.url, "outage_seconds", time.Since(time.Unix(0, since)).Seconds())
	}
}

// encodeEntry writes an event as Redis stores it: "TIME VALUE ITEM", the value "-" when none.
// Text (not binary) so that operators can read it with redis-cli; the item comes last so that
// it may hold any character.
func encodeEntry(e Event) string {
	b := make([]byte, 0, 24+len(e.Item))
	b = strconv.AppendInt(b, e.Time, 10)
	b = append(b, ' ')
	if math.IsNaN(float64(e.Value)) {
		b = append(b, '-')
	} else {
		b = strconv.AppendFloat(b, float64(e.Value), 'g', -1, 32)
	}
	b = append(b, ' ')
	b = append(b, e.Item...)
	return string(b)
}

// decodeEntry reads what encodeEntry wrote.
func decodeEntry(s string) (item string, e Entry, ok bool) {
	ts, rest, ok1 := strings.Cut(s, " ")
	vs, item, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || item == "" {
		return "", e, false
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", e, false
	}
	e.Time, e.Value = t, float32(math.NaN())
	if vs != "-" {
		v, err := strconv.ParseFloat(vs, 32)
		if err != nil {
			return "", e, false
		}
		e.Value = float32(v)
	}
	return item, e, true
}

// quietRedisLog routes go-redis's own log lines (one per failed dial, while a server is down)
// to slog's default logger at debug level: the store logs an outage once, when it starts and
// when it ends. go-redis has one logger per process.
var quietRedisLog sync.Once

type redisLog struct{}

func (redisLog) Printf(ctx context.Context, format string, v ...any) {
	slog.Default().DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// RedisStats describes a RedisStore's traffic.
type RedisStats struct {
	// Appended counts the events acknowledged since Open, Unknown those whose item the catalog
	// does not know; AppendErrors and ReadErrors the calls that failed.
	Appended, Unknown, AppendErrors, ReadErrors int64
	// Up: no outage — calls have not been failing for a second or more with no success
	// between them, and the last did not find the connection refused.
	Up bool
	// Connections open, idle, and the times a call found none free and waited past its
	// deadline.
	Conns, IdleConns, PoolTimeouts int64
	PerUser                        int
}

// Stats returns current counts.
func (s *RedisStore) Stats() RedisStats {
	ps := s.rdb.PoolStats()
	return RedisStats{
		Appended: s.appended.Load(), Unknown: s.unknown.Load(), AppendErrors: s.appendErrors.Load(), ReadErrors: s.readErrors.Load(),
		Up: !s.down.Load(), Conns: int64(ps.TotalConns), IdleConns: int64(ps.IdleConns), PoolTimeouts: int64(ps.Timeouts), PerUser: s.opt.PerUser,
	}
}

// Close closes the connections. The store must not be used afterwards.
func (s *RedisStore) Close() error {
	if err := s.rdb.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("history: closing Redis client: %w", err)
	}
	return nil
}
