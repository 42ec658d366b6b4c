package history

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
)

// userFilter is a Bloom filter of the users that have records in the log: a user who is not
// in memory and not in the filter has no logged history, so nothing is read back for the
// many users who are simply new. A false positive costs one read-back pass that finds
// nothing; there are no false negatives.
//
// Written by hand rather than taken from bits-and-blooms/bloom: the request path tests it
// while the log's writer sets bits, which that library does not allow without a lock, and the
// whole thing is an array of words and one hash. Each key sets 4 bits of one 64-bit word (a
// blocked filter: one atomic OR per add, one load per test).
type userFilter struct {
	seed  maphash.Seed
	words []atomic.Uint64
}

func newUserFilter(seed maphash.Seed, bytes int64) *userFilter {
	return &userFilter{seed: seed, words: make([]atomic.Uint64, max(1, bytes/8))}
}

func (f *userFilter) slot(user string) (*atomic.Uint64, uint64) {
	h := maphash.String(f.seed, user)
	hi, _ := bits.Mul64(h, uint64(len(f.words)))
	return &f.words[hi], mask(h)
}

// mask picks the key's 4 bits of its word from the low bits of its hash (the word comes from
// the high ones).
func mask(h uint64) uint64 {
	return uint64(1)<<(h&63) | uint64(1)<<(h>>6&63) | uint64(1)<<(h>>12&63) | uint64(1)<<(h>>18&63)
}

// add records user and reports whether it may have been recorded before.
func (f *userFilter) add(user string) (seen bool) {
	w, mask := f.slot(user)
	if w.Load()&mask == mask {
		return true
	}
	return w.Or(mask)&mask == mask
}

// has reports whether user may have been recorded.
func (f *userFilter) has(user string) bool {
	w, mask := f.slot(user)
	return w.Load()&mask == mask
}

func (f *userFilter) bytes() int64 { return int64(len(f.words)) * 8 }

// addBytes is add for a user ID held as bytes (maphash hashes both forms alike).
func (f *userFilter) addBytes(user []byte) {
	h := maphash.Bytes(f.seed, user)
	hi, _ := bits.Mul64(h, uint64(len(f.words)))
	f.words[hi].Or(mask(h))
}
