package ranker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cascade-rec/cascade/ranker/internal/scoreorder"
)

// ScoreFunc scores the candidates of r into dst (len(r.Items)); higher ranks first. It is called
// from several goroutines at once.
type ScoreFunc func(ctx context.Context, r *Request, dst []float32) error

// SourceOrder scores candidates by their position in the list, so that Evaluate measures the
// candidate stage's own order.
func SourceOrder(_ context.Context, r *Request, dst []float32) error {
	for i := range r.Items {
		dst[i] = -float32(i)
	}
	return nil
}

// Metrics are ranking metrics over the requests of a set.
type Metrics struct {
	K            int
	Requests     int     // requests evaluated
	WithPositive int     // requests with at least one positive label
	NDCG         float64 // mean NDCG@K over every request; a request without a positive counts 0
	NDCGPositive float64 // mean NDCG@K over the requests with a positive
	HitRate      float64 // share of requests with a positive in the top K
}

func (m Metrics) String() string {
	return fmt.Sprintf("ndcg@%d %.4f (over %d requests), %.4f (over the %d with a positive), hr@%d %.4f",
		m.K, m.NDCG, m.Requests, m.NDCGPositive, m.WithPositive, m.K, m.HitRate)
}

// Evaluate scores every request of s with score and averages NDCG@k over the candidate lists
// (ties keep list order). Requests are scored on GOMAXPROCS goroutines; the averages do not
// depend on their number.
func Evaluate(ctx context.Context, s *Set, k int, score ScoreFunc) (Metrics, error) {
	if k < 1 {
		return Metrics{}, fmt.Errorf("ranker: Evaluate with k = %d, want ≥ 1", k)
	}
	n := len(s.Requests)
	ndcg := make([]float64, n)
	hit := make([]bool, n)
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			var scores []float32
			var order []int
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if i%256 == 0 {
					if err := ctx.Err(); err != nil {
						errs[w] = err
						return
					}
				}
				r := &s.Requests[i]
				scores = slices.Grow(scores[:0], len(r.Items))[:len(r.Items)]
				if err := score(ctx, r, scores); err != nil {
					errs[w] = fmt.Errorf("ranker: request %d: %w", i, err)
					return
				}
				order = rankOrder(scores, order)
				ndcg[i] = ndcgOrdered(r.Labels, order, k)
				for _, j := range order[:min(k, len(order))] {
					if r.Labels[j] > 0 {
						hit[i] = true
						break
					}
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Metrics{}, err
	}
	m := Metrics{K: k, Requests: n}
	var sum, hits float64
	for i := range s.Requests {
		sum += ndcg[i]
		if s.Requests[i].HasPositive() {
			m.WithPositive++
		}
		if hit[i] {
			hits++
		}
	}
	if n > 0 {
		m.NDCG = sum / float64(n)
		m.HitRate = hits / float64(n)
	}
	if m.WithPositive > 0 {
		m.NDCGPositive = sum / float64(m.WithPositive)
	}
	return m, nil
}

// ByScore is the order a ranker stage puts its candidates in: higher scores first; equal and
// unordered (NaN) scores compare equal, so that a stable sort keeps the previous order. (NDCG
// and Evaluate sink NaN scores instead.)
func ByScore(a, b float32) int { return scoreorder.Descending(a, b) }

// NDCG returns NDCG@k of the list ordered by scores (descending; ties keep list order; NaN last)
// with linear gains labels; 0 when no label is positive.
func NDCG(labels, scores []float32, k int) float64 {
	return ndcgOrdered(labels, rankOrder(scores, nil), k)
}

// rankOrder returns the indices of scores by score descending, ties by index, NaN last.
func rankOrder(scores []float32, order []int) []int {
	order = order[:0]
	for i := range scores {
		order = append(order, i)
	}
	key := func(v float32) float32 {
		if isNaN32(v) {
			return float32(math.Inf(-1))
		}
		return v
	}
	slices.SortStableFunc(order, func(a, b int) int { return scoreorder.Descending(key(scores[a]), key(scores[b])) })
	return order
}

func ndcgOrdered(labels []float32, order []int, k int) float64 {
	var dcg float64
	for r, j := range order[:min(k, len(order))] {
		if y := labels[j]; y > 0 {
			dcg += float64(y) / math.Log2(float64(r)+2)
		}
	}
	if dcg == 0 {
		return 0
	}
	ideal := make([]float32, 0, len(labels))
	for _, y := range labels {
		if y > 0 {
			ideal = append(ideal, y)
		}
	}
	slices.Sort(ideal) // positive labels, no NaN
	slices.Reverse(ideal)
	var idcg float64
	for r, y := range ideal[:min(k, len(ideal))] {
		idcg += float64(y) / math.Log2(float64(r)+2)
	}
	return dcg / idcg
}
