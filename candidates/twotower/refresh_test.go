package twotower

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cascade-rec/cascade/candidates"
)

// A user's query embedding is reused within the refresh interval of its computation and
// recomputed from the request's history once the interval has passed (or when the request is
// dated before the computation); other users and anonymous requests are not affected.
func TestQueryRefreshReusesWithinInterval(t *testing.T) {
	const t0 = int64(1_700_000_000)
	h := func(n int) []int32 { // a history that grows with n
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(i * 7 % 500)
		}
		return out
	}
	type req struct {
		user    int32
		at      int64
		hist    int
		reuseOf int // index of the request whose embedding is reused; -1: computed afresh
	}
	tests := []struct {
		name  string
		every time.Duration
		reqs  []req
	}{
		{"every request when zero", 0, []req{
			{0, t0, 5, -1}, {0, t0, 6, -1}, {0, t0 + 1, 7, -1},
		}},
		{"reused within the hour, recomputed at it", time.Hour, []req{
			{0, t0, 5, -1}, {0, t0 + 60, 6, 0}, {0, t0 + 3599, 9, 0}, {0, t0 + 3600, 10, -1}, {0, t0 + 3700, 12, 3},
		}},
		{"an earlier request recomputes", time.Hour, []req{
			{0, t0, 5, -1}, {0, t0 - 1, 6, -1}, {0, t0 + 10, 7, 1},
		}},
		{"users are cached apart", 6 * time.Hour, []req{
			{0, t0, 5, -1}, {1, t0 + 10, 8, -1}, {0, t0 + 20, 9, 0}, {1, t0 + 30, 10, 1},
		}},
		{"anonymous users every request", time.Hour, []req{
			{-1, t0, 5, -1}, {-1, t0 + 1, 6, -1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := benchModel(t, 500)
			fresh := make([][]float32, len(tc.reqs))
			for i, r := range tc.reqs {
				fresh[i] = m.QueryEmbedding(candidates.Query{User: r.user, History: h(r.hist), Time: r.at}, nil)
			}
			if err := m.SetQueryRefresh(tc.every, 0); err != nil {
				t.Fatal(err)
			}
			var want QueryRefreshStats
			for i, r := range tc.reqs {
				got := m.QueryEmbedding(candidates.Query{User: r.user, History: h(r.hist), Time: r.at}, nil)
				exp := fresh[i]
				if r.reuseOf >= 0 {
					exp = fresh[r.reuseOf]
					want.Reused++
				} else {
					want.Computed++
				}
				if !slices.Equal(got, exp) {
					t.Fatalf("request %d (%+v): embedding differs from the expected one's (reuse of %d)", i, r, r.reuseOf)
				}
				if i > 0 && r.reuseOf < 0 && slices.Equal(got, fresh[i-1]) {
					t.Fatalf("request %d: recomputed embedding equals the previous one: histories do not differ enough", i)
				}
			}
			every, st := m.QueryRefresh()
			if every != tc.every {
				t.Errorf("QueryRefresh interval %v, want %v", every, tc.every)
			}
			if tc.every > 0 && st != want {
				t.Errorf("stats %+v, want %+v", st, want)
			}
		})
	}
}

// A full shard evicts its least recently used user, who is recomputed on the next request.
func TestQueryRefreshEvicts(t *testing.T) {
	m := benchModel(t, 200)
	// One slot per shard: users 0, 64 and 128 share shard 0.
	if err := m.SetQueryRefresh(time.Hour, cacheShards); err != nil {
		t.Fatal(err)
	}
	q := func(u int32, at int64) {
		m.QueryEmbedding(candidates.Query{User: u, History: []int32{1, 2, 3}, Time: at}, nil)
	}
	q(0, 100)
	q(0, 101) // reused
	q(64, 102)
	q(0, 103) // evicted by 64: recomputed
	q(1, 104) // another shard
	q(0, 105) // reused
	if _, st := m.QueryRefresh(); st != (QueryRefreshStats{Computed: 4, Reused: 2}) {
		t.Errorf("stats %+v, want 4 computed and 2 reused", st)
	}
	c := m.queries.Load()
	s := c.shard(0)
	if len(s.user) != 1 || s.user[0] != 0 || len(s.slot) != 1 {
		t.Errorf("shard 0 holds users %v (index %v), want only user 0", s.user, s.slot)
	}
}

// The LRU list stays consistent under a mix of hits, inserts and evictions.
func TestQueryCacheLRUOrder(t *testing.T) {
	c := newQueryCache(time.Hour, 2, 3*cacheShards)
	u := []float32{1, 2}
	for _, user := range []int32{0, 64, 128, 0, 192, 64, 256, 0} { // all in shard 0, 3 slots
		if !c.get(user, 10, u) {
			c.put(user, 10, u)
		}
	}
	s := c.shard(0)
	var order []int32
	for i := s.head; i >= 0; i = s.next[i] {
		order = append(order, s.user[i])
	}
	var back []int32
	for i := s.tail; i >= 0; i = s.prev[i] {
		back = append(back, s.user[i])
	}
	slices.Reverse(back)
	if want := []int32{0, 256, 64}; !slices.Equal(order, want) || !slices.Equal(back, want) {
		t.Errorf("most to least recent %v (backward %v), want %v", order, back, want)
	}
}

func TestSetQueryRefreshRefusesNegative(t *testing.T) {
	m := benchModel(t, 50)
	if err := m.SetQueryRefresh(-time.Second, 0); err == nil {
		t.Error("a negative interval was accepted")
	}
	if err := m.SetQueryRefresh(time.Hour, -1); err == nil {
		t.Error("a negative cache size was accepted")
	}
}

// Reusing and recomputing a cached user's embedding allocate nothing.
func TestQueryRefreshNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	m := benchModel(t, 500)
	if err := m.SetQueryRefresh(time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dst := make([]candidates.Candidate, 0, 50)
	q := candidates.Query{User: 3, History: []int32{1, 5, 7, 11, 13}, Time: 1_650_000_000}
	if _, err := m.Recommend(ctx, q, 50, nil, dst); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int64{1, 7200} { // 1 s: reused; 2 h: recomputed every run
		allocs := testing.AllocsPerRun(100, func() {
			q.Time += step
			dst, _ = m.Recommend(ctx, q, 50, nil, dst)
		})
		if allocs != 0 {
			t.Errorf("step %d s: %v allocations per Recommend", step, allocs)
		}
	}
}

// Parallel requests of many users (the server's) each get their own user's embedding.
func TestQueryRefreshConcurrent(t *testing.T) {
	m := benchModel(t, 300)
	const users = 40
	hist := func(u int32) []int32 { return []int32{u, u + 1, u * 3 % 300} }
	want := make([][]float32, users)
	for u := range want {
		want[u] = m.QueryEmbedding(candidates.Query{User: int32(u), History: hist(int32(u)), Time: 1000}, nil)
	}
	if err := m.SetQueryRefresh(time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []float32
			for i := 0; i < 200; i++ {
				u := int32((g*7 + i) % users)
				dst = m.QueryEmbedding(candidates.Query{User: u, History: hist(u), Time: 1000 + int64(i%5)}, dst)
				if !slices.Equal(dst, want[u]) {
					errs <- "a user got another's embedding"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if _, st := m.QueryRefresh(); st.Computed < users || st.Computed+st.Reused != 8*200 {
		t.Errorf("stats %+v: want ≥ %d computed and %d requests in all", st, users, 8*200)
	}
}

// BenchmarkQueryTower: one query tower evaluation (reference architecture, 50-item history), the
// work query_refresh_hours saves on each reused request.
func BenchmarkQueryTower(b *testing.B) {
	m := benchModel(b, 10_000)
	qs := benchQueries(10_000)
	dst := make([]float32, 0, m.Dim())
	benchRequests(b, func(i int) { dst = m.QueryEmbedding(qs[i%len(qs)], dst) })
}

// BenchmarkRecommendReused: BenchmarkRecommend's requests answered with a cached query
// embedding (every request within the refresh interval): the top-500 search alone.
func BenchmarkRecommendReused(b *testing.B) {
	m := benchModel(b, 10_000)
	if err := m.SetQueryRefresh(time.Hour, 0); err != nil {
		b.Fatal(err)
	}
	benchRecommend(b, m)
}
