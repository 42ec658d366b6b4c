package twotower

import (
	"context"
	"fmt"

	"github.com/cascade-rec/cascade/candidates"
)

// Similar returns the n items nearest to item by the item tower's embeddings (inner product of
// the normalised vectors, i.e. cosine), best first, leaving out item itself and the items for
// which skip returns true. It searches the model's retrieval index (HNSW on a large catalog), so
// it costs what a recommendation costs rather than a scan of the catalog. The result is appended
// to dst[:0]. Items added by SetLiveItems are found and can be asked about.
func (m *Model) Similar(ctx context.Context, item int32, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	dst = dst[:0]
	v, _ := m.embedding(m.live.Load(), item)
	if v == nil {
		return dst, fmt.Errorf("twotower: item %d is not in the catalog (%d items, %d added live)", item, m.numItems, m.LiveItems())
	}
	return m.search(ctx, []int32{item}, n, skip, dst, func(s *scratch) {
		d := m.p.Dim
		copy(s.qv, v)
		if m.indexDim > d {
			s.qv[d] = 0 // the prior column: similarity is the embeddings' alone
		}
	})
}
