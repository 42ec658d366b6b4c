package kernel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Workers resolves a worker-count setting: a positive n as given, otherwise GOMAXPROCS.
func Workers(n int) int {
	if n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// For calls body(w, lo, hi) for the consecutive chunks [lo, hi) of [0, n), chunk indices each
// (the last may be shorter), on up to workers goroutines (resolved by Workers, and never more
// than there are chunks). The goroutines take chunks in order from a shared counter, which
// balances chunks of uneven cost; w in [0, workers) names the goroutine, so that body can keep
// per-worker scratch in a slice indexed by w. With one worker the chunks run in order on the
// calling goroutine.
//
// Every index is visited exactly once, so results written per index do not depend on the
// schedule. For checks ctx before each chunk. The first error, body's or ctx's, stops the loop
// (chunks under way finish) and is returned unwrapped.
func For(ctx context.Context, n, chunk, workers int, body func(w, lo, hi int) error) error {
	chunk = max(chunk, 1)
	workers = max(1, min(Workers(workers), (n+chunk-1)/chunk))
	var (
		next  atomic.Int64
		stop  atomic.Bool
		once  sync.Once
		first error
	)
	fail := func(err error) {
		once.Do(func() { first = err })
		stop.Store(true)
	}
	run := func(w int) {
		for !stop.Load() {
			if err := ctx.Err(); err != nil {
				fail(err)
				return
			}
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= n {
				return
			}
			if err := body(w, lo, min(lo+chunk, n)); err != nil {
				fail(err)
				return
			}
		}
	}
	if workers == 1 {
		run(0)
		return first
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { run(w) })
	}
	wg.Wait()
	return first
}
