package kernel

// Scored is an item ID with a score. Lists of them rank by score, descending, then by ID,
// ascending, so that every candidate list breaks ties the same deterministic way.
type Scored[S float32 | float64] struct {
	ID    int32
	Score S
}

// Worse reports whether a ranks below b: a lower score, or an equal score and a larger ID. A NaN
// score compares equal to nothing, so neither of a NaN and another element ranks below the other.
func Worse[S float32 | float64](a, b Scored[S]) bool {
	return a.Score < b.Score || (a.Score == b.Score && a.ID > b.ID)
}

// TopK is a bounded min-heap that keeps the best of the elements offered to it, its root h[0]
// the worst one kept. The bound k (≥ 1) is given with each call. A TopK made from a caller's
// slice (TopK[S](dst[:0])) grows in that slice's array, so a reused buffer allocates nothing.
//
// It is typed by the score rather than generic over the element with a comparison function:
// instantiated per score type, the comparisons compile to plain instructions instead of
// indirect calls in the innermost loop.
type TopK[S float32 | float64] []Scored[S]

// Admits reports whether x would enter the heap under bound k: it has room, or x beats the root.
// Scans test it first, so that costlier checks (a skip callback) run only for contenders.
func (h TopK[S]) Admits(x Scored[S], k int) bool { return len(h) < k || Worse(h[0], x) }

// Offer adds x if Admits(x, k), evicting the root when the heap is full.
func (h *TopK[S]) Offer(x Scored[S], k int) {
	s := *h
	if len(s) < k {
		s = append(s, x)
		siftUp(s, len(s)-1)
		*h = s
		return
	}
	if Worse(s[0], x) {
		s[0] = x
		siftDown(s, 0)
	}
}

// Scan offers {base+j, scores[j]} for every j, leaving out the IDs for which skip (nil: none)
// returns true; skip is called only for the IDs the heap admits.
func (h *TopK[S]) Scan(scores []S, base int32, k int, skip func(id int32) bool) {
	t := *h
	for j, v := range scores {
		x := Scored[S]{ID: base + int32(j), Score: v}
		if !t.Admits(x, k) || (skip != nil && skip(x.ID)) {
			continue
		}
		t.Offer(x, k)
	}
	*h = t
}

// Pop removes and returns the root, the worst element kept. The heap must not be empty.
func (h *TopK[S]) Pop() Scored[S] {
	s := *h
	x := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	siftDown(s, 0)
	*h = s
	return x
}

// Sorted sorts the heap in place, best first (heapsort: the root is moved to the end while the
// heap shrinks), and returns it as a plain slice; h is no longer a heap.
func (h TopK[S]) Sorted() []Scored[S] {
	for n := len(h) - 1; n > 0; n-- {
		h[0], h[n] = h[n], h[0]
		siftDown(h[:n], 0)
	}
	return h
}

// siftUp and siftDown move a hole instead of swapping: one store per level.
func siftUp[S float32 | float64](s []Scored[S], i int) {
	x := s[i]
	for i > 0 {
		p := (i - 1) / 2
		if !Worse(x, s[p]) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = x
}

func siftDown[S float32 | float64](s []Scored[S], i int) {
	n := len(s)
	if n == 0 {
		return
	}
	x := s[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && Worse(s[c+1], s[c]) {
			c++
		}
		if !Worse(s[c], x) {
			break
		}
		s[i] = s[c]
		i = c
	}
	s[i] = x
}
