package twotower

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The query tower computed periodically rather than per request. The article this project
// follows notes that the query embedding may be computed asynchronously, every so often, at the
// cost of real-time history: a user's requests between two computations are answered with the
// embedding of the history as it was at the first of them. SetQueryRefresh turns that on: the
// query embedding of a known user (Query.User ≥ 0) is kept in a bounded per-user cache and reused
// until the request time (Query.Time: the step's time in replay, context.time or now in the
// server) is `every` past the time it was computed; the next request then recomputes it from the
// history it carries. Items the history holds are still left out of the answer on every request:
// only the embedding is stale, not the filter.
//
// The embedding also carries the hour-of-day and day-of-week context of its computation.
// Anonymous users (User < 0) are computed on every request.

// cacheShards splits the cache so that parallel requests of different users rarely share a lock.
const cacheShards = 64

// QueryRefreshStats counts query embeddings computed by the query tower and reused from the
// cache since SetQueryRefresh.
type QueryRefreshStats struct {
	Computed uint64 `json:"computed"`
	Reused   uint64 `json:"reused"`
}

// SetQueryRefresh makes the model reuse a user's query embedding for every (0: compute it on
// every request, the default) in a cache of at most users entries (0: the trained users and a
// quarter more). When more users than that are served, the least recently served of a shard is
// evicted and recomputed on its next request. Dense user IDs spread evenly over the shards, so a
// cache of users ≥ n never evicts a user of IDs [0, n).
// Calling it again starts an empty cache. Requests running meanwhile use the old setting or the
// new one.
//
// The model's results stay deterministic for a fixed order of each user's requests as long as no
// user is evicted: replay, which runs each user's steps in order on one worker, then gives the
// same figures for any number of workers.
func (m *Model) SetQueryRefresh(every time.Duration, users int) error {
	if every < 0 {
		return fmt.Errorf("twotower: query refresh interval %v: must be ≥ 0 (0: every request)", every)
	}
	if users < 0 {
		return fmt.Errorf("twotower: query cache of %d users: must be ≥ 0 (0: sized to the trained users)", users)
	}
	if every == 0 {
		m.queries.Store(nil)
		return nil
	}
	if users == 0 {
		users = m.numUsers + m.numUsers/4 + cacheShards
	}
	m.queries.Store(newQueryCache(every, m.p.Dim, users))
	return nil
}

// QueryRefresh returns the interval SetQueryRefresh set (0: every request) and the counts of its
// cache.
func (m *Model) QueryRefresh() (time.Duration, QueryRefreshStats) {
	c := m.queries.Load()
	if c == nil {
		return 0, QueryRefreshStats{}
	}
	return time.Duration(c.every) * time.Second, QueryRefreshStats{Computed: c.computed.Load(), Reused: c.reused.Load()}
}

// queryCache is a sharded LRU of query embeddings by user. Its memory grows with the users served,
// up to its capacity; a reuse and a recompute of a cached user allocate nothing.
type queryCache struct {
	every            int64 // seconds
	dim              int
	shards           [cacheShards]cacheShard
	computed, reused atomic.Uint64
}

// cacheShard is one lock's part of the cache: slots in a doubly linked list from the most to the
// least recently used, each with its user, computation time and embedding.
type cacheShard struct {
	mu         sync.Mutex
	capacity   int
	slot       map[int32]int32 // user → slot
	user       []int32         // slot → user
	at         []int64         // slot → request time of the computation
	vec        []float32       // slot*dim … (slot+1)*dim: the embedding
	prev, next []int32         // slot → its neighbours toward head and tail, -1 at the ends
	head, tail int32
	_          [64]byte // keep neighbouring shards' locks on different cache lines
}

func newQueryCache(every time.Duration, dim, users int) *queryCache {
	// Request times are whole seconds: an interval is rounded up to one.
	secs := int64(every / time.Second)
	if every%time.Second != 0 {
		secs++
	}
	c := &queryCache{every: secs, dim: dim}
	per := (users + cacheShards - 1) / cacheShards
	for i := range c.shards {
		c.shards[i] = cacheShard{capacity: max(per, 1), slot: map[int32]int32{}, head: -1, tail: -1}
	}
	return c
}

func (c *queryCache) shard(user int32) *cacheShard { return &c.shards[uint32(user)%cacheShards] }

// get copies the embedding of user into dst and reports true when it was computed at most every
// before t (and not after it: a request dated before the computation recomputes).
func (c *queryCache) get(user int32, t int64, dst []float32) bool {
	if user < 0 {
		return false
	}
	s := c.shard(user)
	s.mu.Lock()
	i, ok := s.slot[user]
	if ok {
		if age := t - s.at[i]; age < 0 || age >= c.every {
			ok = false
		} else {
			copy(dst, s.vec[int(i)*c.dim:int(i+1)*c.dim])
			s.toFront(i)
		}
	}
	s.mu.Unlock()
	if ok {
		c.reused.Add(1)
	}
	return ok
}

// put stores u as user's embedding computed at t, evicting the shard's least recently used user
// when it is full.
func (c *queryCache) put(user int32, t int64, u []float32) {
	c.computed.Add(1)
	if user < 0 {
		return
	}
	s := c.shard(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.slot[user]
	switch {
	case ok:
		s.toFront(i)
	case len(s.user) < s.capacity:
		i = int32(len(s.user))
		s.user = append(s.user, user)
		s.at = append(s.at, 0)
		s.vec = append(s.vec, u...)
		s.prev, s.next = append(s.prev, -1), append(s.next, -1)
		s.slot[user] = i
		s.pushFront(i)
	default:
		i = s.tail
		delete(s.slot, s.user[i])
		s.user[i] = user
		s.slot[user] = i
		s.toFront(i)
	}
	s.at[i] = t
	copy(s.vec[int(i)*c.dim:int(i+1)*c.dim], u)
}

// toFront moves slot i to the head of the list.
func (s *cacheShard) toFront(i int32) {
	if s.head == i {
		return
	}
	// Unlink (i is not the head, so it has a predecessor).
	p, n := s.prev[i], s.next[i]
	s.next[p] = n
	if n >= 0 {
		s.prev[n] = p
	} else {
		s.tail = p
	}
	s.pushFront(i)
}

// pushFront links the unlinked slot i at the head.
func (s *cacheShard) pushFront(i int32) {
	s.prev[i], s.next[i] = -1, s.head
	if s.head >= 0 {
		s.prev[s.head] = i
	}
	s.head = i
	if s.tail < 0 {
		s.tail = i
	}
}
