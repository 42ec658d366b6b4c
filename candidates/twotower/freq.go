package twotower

import "math"

// freqEstimator estimates each item's probability of being a training positive, p(item), for
// the logQ correction.
type freqEstimator interface {
	// observe records the positives of training step t, in batch order.
	observe(t int64, items []int32)
	// prob returns the current estimate of p(item).
	prob(item int32) float64
}

// streamingFreq is the estimator of Yi et al. 2019 (Algorithm 2): hashed arrays A (the step an
// item was last seen) and B (its average gap in steps), updated B ← (1−α)·B + α·(t − A). An item
// expected every B steps in batches of size n has p ≈ 1/(n·B). It needs no vocabulary and
// follows drift; hash collisions make colliding items share an estimate.
type streamingFreq struct {
	a     []int64
	b     []float32
	alpha float32
	batch float64
}

func newStreamingFreq(buckets int, alpha float64, batch, numItems int) *streamingFreq {
	s := &streamingFreq{a: make([]int64, buckets), b: make([]float32, buckets), alpha: float32(alpha), batch: float64(batch)}
	// Start from the uniform guess: an item every numItems/batch steps.
	g := float32(max(1, float64(numItems)/float64(batch)))
	for i := range s.b {
		s.b[i] = g
	}
	return s
}

func (s *streamingFreq) bucket(item int32) int {
	return int(mix64(uint64(item)^0x5bd1e995) % uint64(len(s.a)))
}

// observe updates once per occurrence, so an item seen k times in one step averages a gap of
// about 1/k, as in the paper where every example is processed in turn.
func (s *streamingFreq) observe(t int64, items []int32) {
	for _, it := range items {
		h := s.bucket(it)
		s.b[h] = (1-s.alpha)*s.b[h] + s.alpha*float32(t-s.a[h])
		s.a[h] = t
	}
}

func (s *streamingFreq) prob(item int32) float64 {
	return 1 / (s.batch * math.Max(float64(s.b[s.bucket(item)]), 1e-3))
}

// countFreq uses the exact frequencies of the training positives.
type countFreq struct {
	p []float64
}

func newCountFreq(counts []float64) *countFreq {
	var total float64
	for _, c := range counts {
		total += c
	}
	c := &countFreq{p: make([]float64, len(counts))}
	for i, n := range counts {
		// An item that is never a positive can only be a uniform negative; half a count keeps
		// its log finite.
		c.p[i] = math.Max(n, 0.5) / math.Max(total, 1)
	}
	return c
}

func (c *countFreq) observe(int64, []int32) {}

func (c *countFreq) prob(item int32) float64 { return c.p[item] }
