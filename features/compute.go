package features

import (
	"cmp"
	"context"
	"math"
	"math/bits"
	"slices"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// scratch is one request's working memory, pooled by the Extractor. Slices only grow, so once
// they have reached the request sizes nothing is allocated.
type scratch struct {
	cand      itemIndex // candidate item → first position in the batch
	rep       []int32   // per candidate: the first position of its item
	col       []float32 // a model's scores
	rank      []float32 // their ranks
	order     []scored
	logPrior  []float32 // per candidate, for pmi_
	count     []int32   // per candidate: the item's events before t
	hist      itemIndex // distinct history items
	histItems []int32   // distinct catalog items of the history, newest first

	cooc, coocMax, coocCos []float32 // per candidate position

	valBits []uint64 // per attribute value: bitset of the history items having it
	marked  []bool   // per attribute value: some history item has it
	touched []int32  // the marked values
	orBuf   []uint64
}

type scored struct {
	v float32
	i int32
}

func (s *scratch) prepare(n int) {
	s.cand.reset(n)
	s.rep = kernel.Grow(s.rep, n)
	s.col = kernel.Grow(s.col, n)
	s.rank = kernel.Grow(s.rank, n)
	s.logPrior = kernel.Grow(s.logPrior, n)
	s.count = kernel.Grow(s.count, n)
}

// itemFeatures writes the per-item features of every candidate, and keeps log_prior and the
// event count before t in the scratch for pmi_ and cooc_cos.
func (x *Extractor) itemFeatures(s *scratch, items []int32, t int64, dst []float32, stride int) {
	st := x.st
	nan := float32(math.NaN())
	lambda := st.lambda

	// Totals before t, over all events.
	total := countBefore(st.allTimes, t)
	logDenom := math.Log(float64(total + st.numItems))
	logDenomDecayed := 0.0
	if x.needDecay {
		d := 0.0
		if total > 0 {
			d = st.allDecay[total-1] * math.Exp(-lambda*float64(t-st.allTimes[total-1]))
		}
		logDenomDecayed = math.Log(d + float64(st.numItems))
	}
	c := &x.col
	for i, it := range items {
		k, lo := 0, 0
		var times []int64
		if it >= 0 && int(it) < st.numItems {
			lo = st.itemOff[it]
			times = st.itemTimes[lo:st.itemOff[it+1]]
			k = countBefore(times, t)
		}
		s.count[i] = int32(k)
		lp := float32(math.Log(float64(k+1)) - logDenom)
		s.logPrior[i] = lp
		row := dst[i*stride:]
		if c[fLogPrior] >= 0 {
			row[c[fLogPrior]] = lp
		}
		age, since, mean := nan, nan, nan
		decayed := 0.0
		if k > 0 {
			last := times[k-1]
			age = float32(float64(t-times[0]) / secondsPerDay)
			since = float32(float64(t-last) / secondsPerDay)
			if x.needDecay {
				decayed = st.itemDecay[lo+k-1] * math.Exp(-lambda*float64(t-last))
			}
			if st.rateCnt != nil {
				if n := st.rateCnt[lo+k-1]; n > 0 {
					mean = float32(st.rateSum[lo+k-1] / float64(n))
				}
			}
		}
		if c[fLogPriorDecayed] >= 0 {
			row[c[fLogPriorDecayed]] = float32(math.Log(decayed+1) - logDenomDecayed)
		}
		if c[fItemAgeDays] >= 0 {
			row[c[fItemAgeDays]] = age
		}
		if c[fItemDaysSinceLast] >= 0 {
			row[c[fItemDaysSinceLast]] = since
		}
		if c[fItemRecentPop] >= 0 {
			row[c[fItemRecentPop]] = float32(k - countBeforeGallop(times[:k], t-x.recent))
		}
		if c[fItemMeanRating] >= 0 {
			row[c[fItemMeanRating]] = mean
		}
	}
}

// ranks sets s.rank[i] to 1 + the number of scores above sc[i] (NaN for a NaN score): ties share
// a rank, so the result does not depend on the candidates' order.
func (s *scratch) ranks(sc []float32) {
	s.order = s.order[:0]
	for i, v := range sc {
		if v == v {
			s.order = append(s.order, scored{v, int32(i)})
		} else {
			s.rank[i] = float32(math.NaN())
		}
	}
	slices.SortFunc(s.order, byScoreDesc)
	for k, o := range s.order {
		r := k + 1
		if k > 0 && o.v == s.order[k-1].v {
			r = int(s.rank[s.order[k-1].i])
		}
		s.rank[o.i] = float32(r)
	}
}

func byScoreDesc(a, b scored) int { return cmp.Compare(b.v, a.v) }

// historySet fills s.histItems with the distinct catalog items of history, newest first.
func (x *Extractor) historySet(s *scratch, history []int32) {
	s.hist.reset(len(history))
	s.histItems = s.histItems[:0]
	for p := len(history) - 1; p >= 0; p-- {
		h := history[p]
		if h < 0 || int(h) >= x.st.numItems {
			continue
		}
		next := int32(len(s.histItems))
		if s.hist.insert(h, next) == next {
			s.histItems = append(s.histItems, h)
		}
	}
}

// genre writes genre_share and genre_match_max. Each attribute value gets a bitset of the
// history items having it (built once per request), so a candidate costs one OR and popcount
// per value and bitset word, whatever the history length.
func (x *Extractor) genre(s *scratch, items []int32, dst []float32, stride int) {
	st := x.st
	nan := float32(math.NaN())
	cShare, cMax := x.col[fGenreShare], x.col[fGenreMatchMax]
	d := len(s.histItems)
	words := (d + 63) / 64
	if need := st.numValues * words; len(s.valBits) < need {
		s.valBits = make([]uint64, need)
	}
	if len(s.marked) < st.numValues {
		s.marked = make([]bool, st.numValues)
	}
	if len(s.orBuf) < words {
		s.orBuf = make([]uint64, words)
	}
	s.touched = s.touched[:0]
	for p, h := range s.histItems {
		for _, v := range st.catVals[st.catOff[h]:st.catOff[h+1]] {
			if !s.marked[v] {
				s.marked[v] = true
				s.touched = append(s.touched, v)
			}
			s.valBits[int(v)*words+p/64] |= 1 << (p % 64)
		}
	}
	inv := 1 / float32(d)
	orBuf := s.orBuf[:words]
	for i, it := range items {
		share, match := nan, nan
		if d > 0 && it >= 0 && int(it) < st.numItems {
			if vals := st.catVals[st.catOff[it]:st.catOff[it+1]]; len(vals) > 0 {
				clear(orBuf)
				best := 0
				for _, v := range vals {
					if !s.marked[v] {
						continue
					}
					row := s.valBits[int(v)*words : int(v+1)*words]
					pc := 0
					for w, b := range row {
						pc += bits.OnesCount64(b)
						orBuf[w] |= b
					}
					best = max(best, pc)
				}
				pc := 0
				for _, b := range orBuf {
					pc += bits.OnesCount64(b)
				}
				share, match = float32(pc)*inv, float32(best)*inv
			}
		}
		row := dst[i*stride:]
		if cShare >= 0 {
			row[cShare] = share
		}
		if cMax >= 0 {
			row[cMax] = match
		}
	}
	for _, v := range s.touched {
		clear(s.valBits[int(v)*words : int(v+1)*words])
		s.marked[v] = false
	}
}

// cooc writes cooc, cooc_max and cooc_cos: it walks the neighbour lists of the last
// cooc_history distinct history items once, accumulating into the candidates they reach (found
// through the batch's hash index), so the work is L·K lookups whatever the batch size.
func (x *Extractor) cooc(ctx context.Context, s *scratch, items []int32, t int64, dst []float32, stride int) error {
	st := x.st
	n := len(items)
	s.cooc, s.coocMax, s.coocCos = kernel.Grow(s.cooc, n), kernel.Grow(s.coocMax, n), kernel.Grow(s.coocCos, n)
	clear(s.cooc)
	clear(s.coocMax)
	clear(s.coocCos)
	hist := s.histItems[:min(len(s.histItems), st.cfg.CoocHistory)]
	// t in the pair tables' clock (seconds after base), clamped: before base nothing counts,
	// and past the 32-bit range everything does.
	var rel uint32
	all := false
	if t > st.base {
		if d := uint64(t) - uint64(st.base); d > math.MaxUint32 {
			all = true
		} else {
			rel = uint32(d)
		}
	}
	for _, h := range hist {
		nh := countBefore(st.itemTimes[st.itemOff[h]:st.itemOff[h+1]], t)
		if nh == 0 {
			continue // no co-occurrence of h can be before t either
		}
		invH := 1 / math.Sqrt(float64(nh))
		for p := st.nbrOff[h]; p < st.nbrOff[h+1]; p++ {
			ci := s.cand.get(st.nbrItem[p])
			if ci < 0 {
				continue
			}
			lo, hi := st.pairOff[p], st.pairOff[p+1]
			c := hi - lo
			if !all && st.pairLast[p] >= rel {
				if c = countBefore(st.pairTimes[lo:hi], rel); c == 0 {
					continue
				}
			}
			var lg float32
			if c < len(x.log1p) {
				lg = x.log1p[c]
			} else {
				lg = float32(math.Log1p(float64(c)))
			}
			s.cooc[ci] += lg
			s.coocMax[ci] = max(s.coocMax[ci], lg)
			s.coocCos[ci] += float32(float64(c) * invH)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	nan := float32(math.NaN())
	c := &x.col
	for i, it := range items {
		v, vmax, vcos := nan, nan, nan
		if len(hist) > 0 && it >= 0 && int(it) < st.numItems {
			r := s.rep[i]
			v, vmax, vcos = s.cooc[r], s.coocMax[r], 0
			if s.coocCos[r] > 0 {
				vcos = s.coocCos[r] / float32(math.Sqrt(float64(s.count[i])))
			}
		}
		row := dst[i*stride:]
		if c[fCooc] >= 0 {
			row[c[fCooc]] = v
		}
		if c[fCoocMax] >= 0 {
			row[c[fCoocMax]] = vmax
		}
		if c[fCoocCos] >= 0 {
			row[c[fCoocCos]] = vcos
		}
	}
	return nil
}

// attrs writes attr_<column> and attrdiff_<column>.
func (x *Extractor) attrs(s *scratch, items []int32, dst []float32, stride int) {
	st := x.st
	nan := float32(math.NaN())
	for k, vals := range st.numVals {
		c := x.attrCol[k]
		if c[0] < 0 && c[1] < 0 {
			continue
		}
		mean := math.NaN() // float64: years minus their mean would lose digits in float32
		if c[1] >= 0 {
			sum, cnt := 0.0, 0
			for _, h := range s.histItems {
				if v := vals[h]; v == v {
					sum += float64(v)
					cnt++
				}
			}
			if cnt > 0 {
				mean = sum / float64(cnt)
			}
		}
		for i, it := range items {
			v := nan
			if it >= 0 && int(it) < st.numItems {
				v = vals[it]
			}
			row := dst[i*stride:]
			if c[0] >= 0 {
				row[c[0]] = v
			}
			if c[1] >= 0 {
				row[c[1]] = float32(float64(v) - mean)
			}
		}
	}
}
