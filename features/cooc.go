package features

import (
	"cmp"
	"context"
	"slices"

	"github.com/cascade-rec/cascade/dataset"
	"github.com/cascade-rec/cascade/internal/kernel"
)

// coocLists is the co-occurrence part of Stats (see the field comments there).
type coocLists struct {
	nbrOff    []int
	nbrItem   []int32
	pairOff   []int
	pairTimes []uint32
}

// buildCooc counts co-occurrences in users' sequences: two catalog events of one user at most
// window positions apart (any distance when window is 0), of different items, co-occur at the
// time of the later one. Each item keeps its topK partners by window-wide count (ties: smaller
// item ID) together with the time of every co-occurrence, so that counts at any time t can be
// taken by binary search. Items are processed in parallel; the result does not depend on it.
func buildCooc(ctx context.Context, events []dataset.Event, numItems, topK, window int, base int64) (coocLists, error) {
	// Users' catalog events in time order (the events are sorted; ties keep log order).
	numUsers := 0
	for _, e := range events {
		if e.Item >= 0 && int(e.Item) < numItems {
			numUsers = max(numUsers, int(e.User)+1)
		}
	}
	userOff := make([]int, numUsers+1)
	itemOff := make([]int, numItems+1)
	for _, e := range events {
		if e.Item >= 0 && int(e.Item) < numItems {
			userOff[e.User+1]++
			itemOff[e.Item+1]++
		}
	}
	for u := 1; u <= numUsers; u++ {
		userOff[u] += userOff[u-1]
	}
	for i := 1; i <= numItems; i++ {
		itemOff[i] += itemOff[i-1]
	}
	n := userOff[numUsers]
	seqItem := make([]int32, n)
	seqTime := make([]int64, n)
	seqUser := make([]int32, n)
	itemPos := make([]int32, n) // per item, its positions in the sequences, in time order
	uNext := slices.Clone(userOff[:numUsers])
	iNext := slices.Clone(itemOff[:numItems])
	for _, e := range events {
		if e.Item < 0 || int(e.Item) >= numItems {
			continue
		}
		p := uNext[e.User]
		uNext[e.User]++
		seqItem[p], seqTime[p], seqUser[p] = e.Item, e.Time, e.User
		itemPos[iNext[e.Item]] = int32(p)
		iNext[e.Item]++
	}

	type list struct {
		nbr   []int32
		off   []int    // len(nbr)+1, into times
		times []uint32 // seconds after base
	}
	lists := make([]list, numItems)
	// each calls fn(j, τ) for every co-occurrence of item i with another item j.
	each := func(i int, fn func(j int32, t int64)) {
		for _, p := range itemPos[itemOff[i]:itemOff[i+1]] {
			u := seqUser[p]
			lo, hi := userOff[u], userOff[u+1]
			if window > 0 {
				lo, hi = max(lo, int(p)-window), min(hi, int(p)+window+1)
			}
			for q := lo; q < hi; q++ {
				j := seqItem[q]
				if int(j) == i {
					continue
				}
				fn(j, max(seqTime[p], seqTime[q]))
			}
		}
	}
	// A worker's scratch: cnt and slot are per item and reset after each item.
	type scratch struct {
		cnt, slot     []int32
		touched, kept []int32
		cursor        []int
	}
	workers := make([]*scratch, kernel.Workers(0))
	err := kernel.For(ctx, numItems, 32, 0, func(w, start, end int) error {
		if workers[w] == nil {
			workers[w] = &scratch{cnt: make([]int32, numItems), slot: make([]int32, numItems)}
		}
		sc := workers[w]
		cnt, slot := sc.cnt, sc.slot
		touched, kept, cursor := sc.touched, sc.kept, sc.cursor
		for i := start; i < end; i++ {
			touched = touched[:0]
			each(i, func(j int32, _ int64) {
				if cnt[j] == 0 {
					touched = append(touched, j)
				}
				cnt[j]++
			})
			kept = append(kept[:0], touched...)
			slices.SortFunc(kept, func(a, b int32) int {
				if c := cmp.Compare(cnt[b], cnt[a]); c != 0 {
					return c
				}
				return cmp.Compare(a, b)
			})
			kept = kept[:min(len(kept), topK)]
			slices.Sort(kept)
			l := list{nbr: slices.Clone(kept), off: make([]int, len(kept)+1)}
			for k, j := range kept {
				slot[j] = int32(k) + 1
				l.off[k+1] = l.off[k] + int(cnt[j])
			}
			l.times = make([]uint32, l.off[len(kept)])
			cursor = append(cursor[:0], l.off[:len(kept)]...)
			each(i, func(j int32, t int64) {
				if k := slot[j] - 1; k >= 0 {
					l.times[cursor[k]] = uint32(t - base)
					cursor[k]++
				}
			})
			for k := range kept {
				slices.Sort(l.times[l.off[k]:l.off[k+1]])
			}
			for _, j := range touched {
				cnt[j], slot[j] = 0, 0
			}
			lists[i] = l
		}
		sc.touched, sc.kept, sc.cursor = touched, kept, cursor
		return nil
	})
	if err != nil {
		return coocLists{}, err
	}

	var c coocLists
	c.nbrOff = make([]int, numItems+1)
	total := 0
	for i, l := range lists {
		c.nbrOff[i+1] = c.nbrOff[i] + len(l.nbr)
		total += len(l.times)
	}
	c.nbrItem = make([]int32, 0, c.nbrOff[numItems])
	c.pairOff = make([]int, 1, c.nbrOff[numItems]+1)
	c.pairTimes = make([]uint32, 0, total)
	for i := range lists {
		l := &lists[i]
		c.nbrItem = append(c.nbrItem, l.nbr...)
		base := len(c.pairTimes)
		for _, o := range l.off[1:] {
			c.pairOff = append(c.pairOff, base+o)
		}
		c.pairTimes = append(c.pairTimes, l.times...)
		*l = list{}
	}
	return c, nil
}
