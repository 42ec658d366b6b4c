package gbdt

import (
	"math"
	"slices"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// binMapper maps one feature's raw values to bins, as LightGBM's BinMapper does for
// numerical features: value v falls in the first bin b with v <= upper[b]; NaN has its own
// last bin when the training data had NaN (missing type NaN), otherwise it is read as 0
// (missing type None), which is what LightGBM's predictor does with it.
type binMapper struct {
	upper    []float64 // upper bounds of the value bins; the last is +Inf
	hasNaN   bool      // bin len(upper) holds NaN
	min, max float64   // of the non-NaN training values (for feature_infos)
	zeroBin  uint8     // bin of the value 0, used for NaN when !hasNaN
}

// numBins counts value bins plus the NaN bin.
func (m *binMapper) numBins() int {
	if m.hasNaN {
		return len(m.upper) + 1
	}
	return len(m.upper)
}

// trivial reports a feature that can't be split (one bin): LightGBM writes "none" for it.
func (m *binMapper) trivial() bool { return m.numBins() <= 1 }

func (m *binMapper) nanBin() int { return len(m.upper) }

// bin returns the bin of v.
func (m *binMapper) bin(v float64) uint8 {
	if v != v {
		if m.hasNaN {
			return uint8(len(m.upper))
		}
		return m.zeroBin
	}
	// First upper bound >= v; the last bound is +Inf so the result is in range.
	u := m.upper
	return uint8(kernel.LowerBound(u[:len(u)-1], v))
}

// minDataInBin is LightGBM's default: a bin boundary needs at least this many samples below it.
const minDataInBin = 3

// newBinMapper builds the bins of one feature from its (sampled) values as LightGBM's
// BinMapper::FindBin does for numerical features, so that the same data gives the same bins:
// values within one ulp are merged, zero (|v| <= 1e-35) gets a bin of its own, negatives
// and positives share the bins in proportion to their counts, each side is cut by
// GreedyFindBin, and bounds are the next double above the midpoints between neighbouring
// values. NaN, when present, gets the last bin. A feature that can't put filterCnt samples
// on each side of any bound is marked trivial (LightGBM's feature_pre_filter).
func newBinMapper(values []float64, maxBin, filterCnt int) *binMapper {
	m := &binMapper{}
	total := len(values)
	vals := make([]float64, 0, len(values))
	naCnt := 0
	for _, v := range values {
		switch {
		case v != v:
			naCnt++
		case v > kZeroThreshold || v <= -kZeroThreshold:
			vals = append(vals, v)
		}
	}
	m.hasNaN = naCnt > 0
	zeroCnt := total - len(vals) - naCnt
	sortFloats(vals)
	distinct := make([]float64, 0, len(vals)+2)
	counts := make([]int, 0, len(vals)+2)
	push := func(v float64, c int) {
		distinct = append(distinct, v)
		counts = append(counts, c)
	}
	if len(vals) == 0 || (vals[0] > 0 && zeroCnt > 0) {
		push(0, zeroCnt)
	}
	if len(vals) > 0 {
		push(vals[0], 1)
	}
	for i := 1; i < len(vals); i++ {
		if vals[i] > math.Nextafter(vals[i-1], math.Inf(1)) {
			if vals[i-1] < 0 && vals[i] > 0 {
				push(0, zeroCnt)
			}
			push(vals[i], 1)
		} else {
			// Within one ulp: one value, the larger.
			distinct[len(distinct)-1] = vals[i]
			counts[len(counts)-1]++
		}
	}
	if len(vals) > 0 && vals[len(vals)-1] < 0 && zeroCnt > 0 {
		push(0, zeroCnt)
	}
	m.min, m.max = distinct[0], distinct[len(distinct)-1]
	if m.hasNaN {
		m.upper = findBinZeroAsOneBin(distinct, counts, maxBin-1, total-naCnt)
	} else {
		m.upper = findBinZeroAsOneBin(distinct, counts, maxBin, total)
	}
	m.zeroBin = m.bin(0)
	if m.numBins() > 1 && filterCnt > 0 && needFilter(m, distinct, counts, naCnt, total, filterCnt) {
		m.upper = []float64{math.Inf(1)}
		m.hasNaN = false
		m.zeroBin = 0
	}
	return m
}

// needFilter reports a feature where no bound leaves filterCnt samples on both sides.
func needFilter(m *binMapper, distinct []float64, counts []int, naCnt, total, filterCnt int) bool {
	cnt := make([]int, m.numBins())
	b := 0
	for i, v := range distinct {
		for v > m.upper[b] && b < len(m.upper)-1 {
			b++
		}
		cnt[b] += counts[i]
	}
	if m.hasNaN {
		cnt[len(cnt)-1] = naCnt
	}
	left := 0
	for i := 0; i < len(cnt)-1; i++ {
		left += cnt[i]
		if left >= filterCnt && total-left >= filterCnt {
			return false
		}
	}
	return true
}

func upperBound(a float64) float64 { return math.Nextafter(a, math.Inf(1)) }

// findBinZeroAsOneBin splits the bins between negative and positive values around a zero bin
// (-1e-35, 1e-35].
func findBinZeroAsOneBin(distinct []float64, counts []int, maxBin, total int) []float64 {
	leftData, zero := 0, 0
	for i, v := range distinct {
		switch {
		case v <= -kZeroThreshold:
			leftData += counts[i]
		case v <= kZeroThreshold:
			zero += counts[i]
		}
	}
	leftCnt := len(distinct)
	for i, v := range distinct {
		if v > -kZeroThreshold {
			leftCnt = i
			break
		}
	}
	var bounds []float64
	if leftCnt > 0 && maxBin > 1 {
		leftMax := max(1, int(float64(leftData)/float64(total-zero)*float64(maxBin-1)))
		bounds = greedyFindBin(distinct[:leftCnt], counts[:leftCnt], leftMax, leftData)
		bounds[len(bounds)-1] = -kZeroThreshold
	}
	rightStart := -1
	for i := leftCnt; i < len(distinct); i++ {
		if distinct[i] > kZeroThreshold {
			rightStart = i
			break
		}
	}
	rightMax := maxBin - 1 - len(bounds)
	if rightStart >= 0 && rightMax > 0 {
		rightData := 0
		for _, c := range counts[rightStart:] {
			rightData += c
		}
		bounds = append(bounds, kZeroThreshold)
		bounds = append(bounds, greedyFindBin(distinct[rightStart:], counts[rightStart:], rightMax, rightData)...)
	} else {
		bounds = append(bounds, math.Inf(1))
	}
	return bounds
}

// greedyFindBin is LightGBM's GreedyFindBin: one bin per distinct value (at least
// minDataInBin samples each) when they fit, else bins of about equal counts where values
// with a bin's worth of samples get a bin of their own.
func greedyFindBin(distinct []float64, counts []int, maxBin, total int) []float64 {
	var bounds []float64
	add := func(v float64) {
		if len(bounds) == 0 || v > math.Nextafter(bounds[len(bounds)-1], math.Inf(1)) {
			bounds = append(bounds, v)
		}
	}
	n := len(distinct)
	if n <= maxBin {
		cur := 0
		for i := 0; i < n-1; i++ {
			cur += counts[i]
			if cur >= minDataInBin {
				before := len(bounds)
				add(upperBound((distinct[i] + distinct[i+1]) / 2))
				if len(bounds) > before {
					cur = 0
				}
			}
		}
		return append(bounds, math.Inf(1))
	}
	maxBin = max(1, min(maxBin, total/minDataInBin))
	meanBinSize := float64(total) / float64(maxBin)
	big := make([]bool, n)
	restBins, restSamples := maxBin, total
	for i, c := range counts {
		if float64(c) >= meanBinSize {
			big[i] = true
			restBins--
			restSamples -= c
		}
	}
	meanBinSize = float64(restSamples) / float64(restBins)
	upper := make([]float64, 0, maxBin)
	lower := []float64{distinct[0]}
	cur := 0
	for i := 0; i < n-1; i++ {
		if !big[i] {
			restSamples -= counts[i]
		}
		cur += counts[i]
		if big[i] || float64(cur) >= meanBinSize || (big[i+1] && float64(cur) >= max(1, meanBinSize*0.5)) {
			upper = append(upper, distinct[i])
			lower = append(lower, distinct[i+1])
			if len(upper) >= maxBin-1 {
				break
			}
			cur = 0
			if !big[i] {
				restBins--
				meanBinSize = float64(restSamples) / float64(restBins)
			}
		}
	}
	for i := range upper {
		add(upperBound((upper[i] + lower[i+1]) / 2))
	}
	return append(bounds, math.Inf(1))
}

// sortFloats sorts values without NaN ascending. Bins are found from 200,000 sampled
// values per feature; a radix sort on the bits (an order-preserving map to uint64) does
// that in a fraction of a comparison sort's time, with the same result.
func sortFloats(v []float64) {
	if len(v) < 1024 {
		slices.Sort(v)
		return
	}
	const bits = 11
	const buckets = 1 << bits
	keys := make([]uint64, len(v))
	buf := make([]uint64, len(v))
	for i, x := range v {
		u := math.Float64bits(x)
		if u>>63 != 0 {
			u = ^u // negative: larger magnitude sorts first
		} else {
			u |= 1 << 63
		}
		keys[i] = u
	}
	var count [buckets]int
	for shift := uint(0); shift < 64; shift += bits {
		clear(count[:])
		for _, k := range keys {
			count[k>>shift&(buckets-1)]++
		}
		if count[keys[0]>>shift&(buckets-1)] == len(keys) {
			continue // every key has this digit
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, k := range keys {
			d := k >> shift & (buckets - 1)
			buf[count[d]] = k
			count[d]++
		}
		keys, buf = buf, keys
	}
	for i, u := range keys {
		if u>>63 != 0 {
			u &^= 1 << 63
		} else {
			u = ^u
		}
		v[i] = math.Float64frombits(u)
	}
}

// binned is a column-major bin matrix: cols[f][row].
type binned struct {
	rows int
	cols [][]uint8
}

// binColumns bins every feature of X (row-major rows×nf) with the given mappers, in parallel
// over features.
func binColumns(x []float64, rows, nf int, mappers []*binMapper, workers int) *binned {
	b := &binned{rows: rows, cols: make([][]uint8, nf)}
	parallelFor(nf, workers, func(f int) {
		col := make([]uint8, rows)
		m := mappers[f]
		if !m.trivial() {
			for r := range col {
				col[r] = m.bin(x[r*nf+f])
			}
		}
		b.cols[f] = col
	})
	return b
}

// sampleRows picks up to n row indices (sorted) to find bins from, with LightGBM's sampler
// (bin_construct_sample_cnt rows, data_random_seed).
func sampleRows(rows, n, seed int) []int {
	if rows <= n {
		idx := make([]int, rows)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	r := lgbRand{x: uint32(seed)}
	return r.sample(rows, n)
}
