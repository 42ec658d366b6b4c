package twotower

import (
	"slices"
	"sort"
)

// Impression is one logged slate as the two-tower learns from it (Params.Examples
// "impressions"): the request's user and time, and what was shown and clicked. The pipeline
// builds these from the log ranker.BuildImpressions reads (the served log or synth's
// impressions.jsonl); the model package does not parse logs.
type Impression struct {
	User    int32   // dense user; outside the event users the slate is left out
	Time    int64   // Unix seconds: the history is the user's events strictly before it
	Shown   []int32 // dense items in position order; items outside the catalog are skipped
	Clicked []bool  // per shown item
}

// impressionSamples returns one example per clicked catalog item of a slate served before
// `before` (0: no bound) whose user has a catalog item in the history before the slate: its
// history ends at the slate's time, its item is the clicked one, and its own negatives
// (negs[negLo:negHi], shared by the slate's clicks) are the slate's other catalog items that
// were shown and not clicked, each once.
func impressionSamples(s *seqs, imps []Impression, numItems int, before int64) (out []sample, negs []int32) {
	users := int32(len(s.off) - 1)
	inCatalog := func(it int32) bool { return it >= 0 && int(it) < numItems }
	for _, imp := range imps {
		if imp.User < 0 || imp.User >= users || (before != 0 && imp.Time >= before) {
			continue
		}
		lo, hi := s.off[imp.User], s.off[imp.User+1]
		idx := lo + int32(sort.Search(int(hi-lo), func(j int) bool { return s.times[lo+int32(j)] >= imp.Time }))
		known := false
		for _, it := range s.items[lo:idx] {
			if inCatalog(it) {
				known = true
				break
			}
		}
		if !known {
			continue
		}
		clicked := func(it int32) bool {
			for j, x := range imp.Shown {
				if x == it && j < len(imp.Clicked) && imp.Clicked[j] {
					return true
				}
			}
			return false
		}
		negLo := int32(len(negs))
		for j, it := range imp.Shown {
			if !inCatalog(it) || clicked(it) {
				continue
			}
			if dup := j > 0 && slices.Contains(imp.Shown[:j], it); !dup {
				negs = append(negs, it)
			}
		}
		negHi := int32(len(negs))
		for j, it := range imp.Shown {
			if j < len(imp.Clicked) && imp.Clicked[j] && inCatalog(it) && !slices.Contains(imp.Shown[:j], it) {
				out = append(out, sample{user: imp.User, idx: idx, item: it, negLo: negLo, negHi: negHi})
			}
		}
	}
	return out, negs
}

// assembleOwn adds the batch rows' own negatives to its columns (as columns of no shared slot,
// mult 0, unless the item already is one) and lists them per row in cols.own.
func (t *trainer) assembleOwn(batch []sample) {
	c := &t.cols
	c.own, c.ownOff = c.own[:0], append(c.ownOff[:0], 0)
	for _, s := range batch {
		for _, it := range t.negs[s.negLo:s.negHi] {
			c.own = append(c.own, t.column(it))
		}
		c.ownOff = append(c.ownOff, int32(len(c.own)))
	}
}
