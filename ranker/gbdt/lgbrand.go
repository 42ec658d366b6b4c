package gbdt

import "math"

// lgbRand is LightGBM's linear congruential generator (utils/random.h), used for bagging so
// that a seed draws the same bags as LightGBM.
type lgbRand struct{ x uint32 }

func (r *lgbRand) int16() int {
	r.x = 214013*r.x + 2531011
	return int((r.x >> 16) & 0x7FFF)
}

// float returns a float32-precision value in [0, 1), as LightGBM's NextFloat.
func (r *lgbRand) float() float32 { return float32(r.int16()) / 32768 }

// nextShort returns a value in [lo, hi), as LightGBM's NextShort.
func (r *lgbRand) nextShort(lo, hi int) int { return r.int16()%(hi-lo) + lo }

// lgbBagger draws LightGBM's bags: rows in blocks of 1024, one generator per block seeded
// with bagging_seed + block, a row is in the bag when NextFloat() < bagging_fraction.
type lgbBagger struct {
	rands []lgbRand
}

const baggingRandBlock = 1024

func newLGBBagger(rows int, seed int) *lgbBagger {
	b := &lgbBagger{rands: make([]lgbRand, (rows+baggingRandBlock-1)/baggingRandBlock)}
	for i := range b.rands {
		b.rands[i].x = uint32(seed + i)
	}
	return b
}

// bag fills in with the rows drawn into the bag and out with the others, both ascending.
func (b *lgbBagger) bag(in, out []int32, rows int, fraction float64) ([]int32, []int32) {
	in, out = in[:0], out[:0]
	f := float32(fraction)
	for i := 0; i < rows; i++ {
		if b.rands[i/baggingRandBlock].float() < f {
			in = append(in, int32(i))
		} else {
			out = append(out, int32(i))
		}
	}
	return in, out
}

// lgbSeeds derives LightGBM's per-purpose seeds from the master seed (config.cpp).
type lgbSeeds struct {
	dataRandom, bagging, drop, featureFraction, objective, extra int
}

func deriveLGBSeeds(seed int) lgbSeeds {
	r := lgbRand{x: uint32(seed)}
	const intMax = 32767
	var s lgbSeeds
	s.dataRandom = r.nextShort(0, intMax)
	s.bagging = r.nextShort(0, intMax)
	s.drop = r.nextShort(0, intMax)
	s.featureFraction = r.nextShort(0, intMax)
	s.objective = r.nextShort(0, intMax)
	s.extra = r.nextShort(0, intMax)
	return s
}

func (r *lgbRand) int32() int {
	r.x = 214013*r.x + 2531011
	return int(r.x & 0x7FFFFFFF)
}

// sample draws k sorted indices from [0, n) as LightGBM's Random::Sample does.
func (r *lgbRand) sample(n, k int) []int {
	ret := make([]int, 0, max(k, 0))
	switch {
	case k > n || k <= 0:
	case k == n:
		for i := 0; i < n; i++ {
			ret = append(ret, i)
		}
	case k > 1 && float64(k) > float64(n)/math.Log2(float64(k)):
		for i := 0; i < n; i++ {
			prob := float64(k-len(ret)) / float64(n-i)
			if float64(r.float()) < prob {
				ret = append(ret, i)
			}
		}
	default:
		// Floyd's algorithm over an ordered set.
		set := map[int]bool{}
		for x := n - k; x < n; x++ {
			v := r.int32() % (x + 1)
			if set[v] {
				set[x] = true
			} else {
				set[v] = true
			}
		}
		for i := 0; i < n; i++ {
			if set[i] {
				ret = append(ret, i)
			}
		}
	}
	return ret
}

// lgbColSampler picks each tree's features as LightGBM's ColSampler (feature_fraction):
// round(fraction·usable) features, at least min(2, usable), from a generator seeded with
// feature_fraction_seed that has already drawn once when the training data was set.
type lgbColSampler struct {
	r      lgbRand
	usable []int
	cnt    int
}

func newLGBColSampler(seed int, usable []int, fraction float64) *lgbColSampler {
	c := &lgbColSampler{r: lgbRand{x: uint32(seed)}, usable: usable}
	c.cnt = max(int(float64(len(usable))*fraction+0.5), min(2, len(usable)))
	c.next() // LightGBM samples once in SetTrainingData
	return c
}

func (c *lgbColSampler) next() []int {
	idx := c.r.sample(len(c.usable), c.cnt)
	feats := make([]int, len(idx))
	for i, j := range idx {
		feats[i] = c.usable[j]
	}
	return feats
}
