package ann

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// Result is one neighbour: ID is the row index of a stored vector and Score
// its inner product with the query. Results rank by Score descending, then
// by ID ascending (kernel.Worse), the one tie order of every candidate list.
type Result = kernel.Scored[float32]

// Index is a read-only inner-product nearest-neighbour index.
//
// Results are sorted by Score descending, ties by ID ascending, and are
// appended to dst[:0], so passing a buffer with capacity k makes a search
// allocation-free. Fewer than k results are returned when the index holds
// fewer than k (allowed) vectors. A query whose length is not Dim yields an
// error wrapping [ErrDim]; k <= 0 yields no results. Queries should be
// finite: NaN scores have no order, so such a query gets arbitrary (but
// well-formed) results.
//
// All methods are safe for concurrent use.
type Index interface {
	// Search returns the k stored vectors with the largest inner product with q.
	Search(q []float32, k int, dst []Result) ([]Result, error)

	// SearchFiltered is Search over the vectors for which skip returns false.
	// skip is called only for IDs that would otherwise enter the result set
	// and must be safe for concurrent use if the caller searches concurrently.
	SearchFiltered(q []float32, k int, skip func(id int32) bool, dst []Result) ([]Result, error)

	// SearchBatch searches every query in the row-major matrix qs
	// (len(qs) = nq*Dim) in parallel and returns one result list per query,
	// reusing the lists in dst. skip, when not nil, excludes id for query qi.
	SearchBatch(qs []float32, k int, skip func(qi int, id int32) bool, dst [][]Result) ([][]Result, error)

	// Len returns the number of stored vectors.
	Len() int

	// Dim returns the vector dimension.
	Dim() int
}

var (
	_ Index = (*Exact)(nil)
	_ Index = (*HNSW)(nil)
)

var (
	// ErrDim reports a vector or matrix whose length does not match the
	// index dimension.
	ErrDim = errors.New("ann: dimension mismatch")

	// ErrFormat reports an index file that is not a valid index of a
	// supported version: wrong magic, unknown version, bad checksum,
	// truncation or inconsistent contents.
	ErrFormat = errors.New("ann: invalid index file")
)

// checkVectors validates a row-major matrix of vectors and returns its row
// count. Non-finite values are rejected because they break the ordering of
// scores (NaN compares false with everything).
func checkVectors(vectors []float32, dim int) (int, error) {
	if dim <= 0 {
		return 0, fmt.Errorf("%w: dimension %d must be positive", ErrDim, dim)
	}
	if len(vectors)%dim != 0 {
		return 0, fmt.Errorf("%w: %d values is not a multiple of dimension %d", ErrDim, len(vectors), dim)
	}
	n := len(vectors) / dim
	if n > math.MaxInt32 {
		return 0, fmt.Errorf("ann: %d vectors exceed the int32 ID space", n)
	}
	for i, v := range vectors {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("ann: vector %d has non-finite value %v at position %d", i/dim, v, i%dim)
		}
	}
	return n, nil
}

func checkQuery(q []float32, dim int) error {
	if len(q) != dim {
		return fmt.Errorf("%w: query has %d values, index dimension is %d", ErrDim, len(q), dim)
	}
	return nil
}

func checkBatch(qs []float32, dim int) (int, error) {
	if len(qs)%dim != 0 {
		return 0, fmt.Errorf("%w: %d query values is not a multiple of dimension %d", ErrDim, len(qs), dim)
	}
	return len(qs) / dim, nil
}

// batchResults checks a batch of queries (rows of dim values) and returns
// their number and dst with that many entries, each truncated to length 0 but
// keeping its backing array for reuse.
func batchResults(qs []float32, dim int, dst [][]Result) (int, [][]Result, error) {
	nq, err := checkBatch(qs, dim)
	if err != nil {
		return 0, dst[:0], err
	}
	dst = slices.Grow(dst[:0], nq)[:nq]
	for i := range dst {
		dst[i] = dst[i][:0]
	}
	return nq, dst, nil
}

// bestFirst is a max-heap whose root is the best result: the candidate
// queue of the HNSW beam search.
type bestFirst []Result

func (h *bestFirst) push(r Result) {
	s := append(*h, r)
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !kernel.Worse(s[p], r) {
			break
		}
		s[i] = s[p]
		i = p
	}
	s[i] = r
	*h = s
}

func (h *bestFirst) pop() Result {
	s := *h
	top := s[0]
	n := len(s) - 1
	r := s[n]
	s = s[:n]
	if n > 0 {
		i := 0
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if c+1 < n && kernel.Worse(s[c], s[c+1]) {
				c++
			}
			if !kernel.Worse(r, s[c]) {
				break
			}
			s[i] = s[c]
			i = c
		}
		s[i] = r
	}
	*h = s
	return top
}
