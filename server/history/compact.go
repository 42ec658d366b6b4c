package history

import (
	"bufio"
	"cmp"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
)

// compaction is the result of rewriting a prefix of the log into path+".compact".
type compaction struct {
	tmp   string
	end   int64       // the prefix of the live file it replaces
	users *userFilter // the users it kept
	// dropped counts the users (and their events) left out to keep the log within its bound.
	droppedUsers, droppedEvents int64
	damage                      []damage // damaged runs skipped in the prefix
	err                         error
}

// tally is one user's part of a compaction. Users are told apart by a 64-bit hash, which keeps
// the table small; a collision only trims or drops two users together.
type tally struct {
	count, seen [2]int32 // records with items outside / inside the catalog
	bytes       int64    // bytes of the records the per-user trim keeps
	last        int64    // offset of the user's last record: how recently they were active
	drop        bool
}

// compactPrefix rewrites the records in the first end bytes of path, keeping of each user the
// last PerUser events with catalog items (what memory holds, so that a restart or a read-back
// restores the same history) and the last PerUser with other items, in their original order.
// When that still exceeds budget bytes, the users whose last event is oldest are left out
// until it fits: the log is bounded by size, not only per user.
//
// Three sequential passes over the prefix: count, measure what the trim keeps (only when the
// prefix could exceed the budget), write.
func compactPrefix(path string, end, budget int64, opt Options, seed maphash.Seed, filterBytes int64) compaction {
	c := compaction{end: end, users: newUserFilter(seed, filterBytes)}
	f, err := os.Open(path)
	if err != nil {
		c.err = err
		return c
	}
	defer f.Close()
	hdr := int64(len(logHeader))
	pass := func(onDamage func(damage), fn func(i int, rec []byte, at int64)) error {
		sc := newScanner(io.NewSectionReader(f, hdr, end-hdr), hdr, onDamage)
		for i := 0; sc.next(); i++ {
			fn(i, sc.rec, sc.at)
		}
		if sc.tail != nil && onDamage != nil {
			onDamage(*sc.tail) // the prefix ends on a record: anything else there is damage
		}
		return sc.err
	}
	index := map[uint64]int32{}
	var tallies []tally
	var inCatalog []uint64 // a bit per record, so that later passes need no catalog lookup
	userOf := func(rec []byte) *tally { return &tallies[index[maphash.Bytes(seed, recordUser(rec))]] }
	err = pass(func(d damage) { c.damage = append(c.damage, d) }, func(i int, rec []byte, at int64) {
		_, item, _, _, _ := parsePayload(rec[recordHeader:])
		bit := 0
		if opt.Catalog != nil {
			if _, ok := opt.Catalog.Lookup(string(item)); ok {
				bit = 1
			}
		}
		if i/64 == len(inCatalog) {
			inCatalog = append(inCatalog, 0)
		}
		inCatalog[i/64] |= uint64(bit) << (i % 64)
		h := maphash.Bytes(seed, recordUser(rec))
		j, ok := index[h]
		if !ok {
			j = int32(len(tallies))
			index[h] = j
			tallies = append(tallies, tally{})
		}
		t := &tallies[j]
		t.count[bit]++
		t.last = at
	})
	bitOf := func(i int) int { return int(inCatalog[i/64] >> (i % 64) & 1) }
	keep := func(i int, t *tally) bool {
		b := bitOf(i)
		t.seen[b]++
		return t.count[b]-t.seen[b] < int32(opt.PerUser)
	}
	if err == nil && end-hdr > budget-hdr {
		var total int64
		err = pass(nil, func(i int, rec []byte, _ int64) {
			if t := userOf(rec); keep(i, t) {
				t.bytes += int64(len(rec))
				total += int64(len(rec))
			}
		})
		if err == nil && total > budget-hdr {
			c.droppedUsers, c.droppedEvents = dropLeastRecent(tallies, budget-hdr)
		}
		for i := range tallies {
			tallies[i].seen = [2]int32{}
		}
	}
	if err != nil {
		c.err = fmt.Errorf("history: compaction read: %w", err)
		return c
	}
	c.tmp = path + ".compact"
	out, err := os.OpenFile(c.tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		c.err = err
		return c
	}
	w := bufio.NewWriterSize(out, 1<<20)
	w.WriteString(logHeader)
	var werr error
	err = pass(nil, func(i int, rec []byte, _ int64) {
		if t := userOf(rec); keep(i, t) && !t.drop && werr == nil {
			_, werr = w.Write(rec)
			c.users.addBytes(recordUser(rec))
		}
	})
	for _, e := range []error{werr, w.Flush(), out.Sync(), out.Close()} {
		if err == nil {
			err = e
		}
	}
	if err != nil {
		os.Remove(c.tmp)
		c.err = fmt.Errorf("history: compaction: %w", err)
	}
	return c
}

// dropLeastRecent marks users for dropping, least recently active first, until the bytes the
// others keep fit in budget; it returns how many users and events it dropped.
func dropLeastRecent(tallies []tally, budget int64) (users, events int64) {
	order := make([]int32, len(tallies))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(tallies[b].last, tallies[a].last) })
	var kept int64
	full := false
	for _, i := range order {
		t := &tallies[i]
		if !full && kept+t.bytes <= budget {
			kept += t.bytes
			continue
		}
		full = true // older users never displace newer ones
		t.drop = true
		users++
		events += int64(t.count[0] + t.count[1])
	}
	return users, events
}
