package kernel

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestForVisitsEachIndexOnce checks For against the sequential loop: every index exactly once,
// chunks of the asked size, worker names in range and never used by two goroutines at a time.
func TestForVisitsEachIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, chunk, workers int }{
		{0, 1, 4}, {1, 1, 4}, {10, 1, 1}, {10, 3, 2}, {100, 7, 3}, {1000, 16, 0}, {5, 100, 8}, {64, 0, 2},
	} {
		hits := make([]atomic.Int32, tc.n)
		maxW := max(1, min(Workers(tc.workers), (tc.n+max(tc.chunk, 1)-1)/max(tc.chunk, 1)))
		busy := make([]atomic.Bool, maxW)
		err := For(context.Background(), tc.n, tc.chunk, tc.workers, func(w, lo, hi int) error {
			if w < 0 || w >= maxW {
				t.Errorf("%+v: worker %d out of [0, %d)", tc, w, maxW)
				return nil
			}
			if busy[w].Swap(true) {
				t.Errorf("%+v: worker %d runs twice at once", tc, w)
			}
			defer busy[w].Store(false)
			if lo >= hi || hi-lo > max(tc.chunk, 1) || (hi < tc.n && hi-lo != max(tc.chunk, 1)) {
				t.Errorf("%+v: chunk [%d, %d)", tc, lo, hi)
			}
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("%+v: index %d visited %d times", tc, i, h)
			}
		}
	}
}

func TestForOneWorkerRunsInOrder(t *testing.T) {
	var got []int
	err := For(context.Background(), 10, 3, 1, func(w, lo, hi int) error {
		got = append(got, lo, hi)
		return nil
	})
	want := []int{0, 3, 3, 6, 6, 9, 9, 10}
	if err != nil || len(got) != len(want) {
		t.Fatalf("got %v, %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("chunks %v, want %v", got, want)
		}
	}
}

func TestForStopsAtFirstError(t *testing.T) {
	boom := errors.New("boom")
	var ran atomic.Int32
	err := For(context.Background(), 1000, 1, 2, func(_, lo, _ int) error {
		ran.Add(1)
		if lo == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if n := ran.Load(); n == 1000 {
		t.Errorf("all %d chunks ran after the error", n)
	}
}

func TestForCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	err := For(ctx, 1000, 1, 2, func(_, lo, _ int) error {
		if ran.Add(1) == 5 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := ran.Load(); n >= 1000 {
		t.Errorf("%d chunks ran after cancellation", n)
	}
	if err := For(ctx, 0, 1, 1, func(_, _, _ int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("empty range under a cancelled context: %v", err)
	}
}

func TestWorkers(t *testing.T) {
	if got := Workers(3); got != 3 {
		t.Errorf("Workers(3) = %d", got)
	}
	for _, n := range []int{0, -1} {
		if got := Workers(n); got != runtime.GOMAXPROCS(0) {
			t.Errorf("Workers(%d) = %d, want GOMAXPROCS", n, got)
		}
	}
}

// BenchmarkFor is the loop's own cost: 4096 trivial chunks.
func BenchmarkFor(b *testing.B) {
	ctx := context.Background()
	sums := make([]int, 4096)
	for b.Loop() {
		For(ctx, len(sums), 1, 0, func(_, lo, _ int) error {
			sums[lo]++
			return nil
		})
	}
}
