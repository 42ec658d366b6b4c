// Package popularity owns the popularity candidate source: items ranked by their number of train
// events, ties broken by external item ID compared as strings (replay-v1 §5, so that its replay
// numbers equal the reference exactly), and the smoothed popularity prior log P(item) that serving
// adds as β·log P(item) and rankers use as a feature.
package popularity

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/cascade-rec/cascade/artifact"
	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

// Model is a trained popularity model. It is a candidates.Source and a candidates.Scorer, ignores
// the query (it is the same for everyone), and is safe for concurrent use.
type Model struct {
	counts    []int64   // train events per item
	total     int64     // Σ counts
	ranking   []int32   // items by count descending, then external ID ascending
	logPriors []float32 // log P(item), add-one smoothed
}

var (
	_ candidates.Source = (*Model)(nil)
	_ candidates.Scorer = (*Model)(nil)
)

// Train counts the events of each item in [0, numItems) (other items are ignored). itemIDs holds
// the external ID of each dense item ID and breaks ties; it must have at least numItems entries,
// or be nil to break ties by dense ID.
func Train(events []dataset.Event, numItems int, itemIDs []string) *Model {
	if itemIDs != nil && len(itemIDs) < numItems {
		panic(fmt.Sprintf("popularity.Train: %d item IDs for %d items", len(itemIDs), numItems))
	}
	counts := make([]int64, max(numItems, 0))
	for _, e := range events {
		if e.Item >= 0 && int(e.Item) < len(counts) {
			counts[e.Item]++
		}
	}
	ranking := make([]int32, len(counts))
	for i := range ranking {
		ranking[i] = int32(i)
	}
	slices.SortFunc(ranking, func(a, b int32) int {
		if counts[a] != counts[b] {
			if counts[a] > counts[b] {
				return -1
			}
			return 1
		}
		if itemIDs != nil {
			if c := strings.Compare(itemIDs[a], itemIDs[b]); c != 0 {
				return c
			}
		}
		return int(a) - int(b)
	})
	return newModel(counts, ranking)
}

func newModel(counts []int64, ranking []int32) *Model {
	m := &Model{counts: counts, ranking: ranking, logPriors: make([]float32, len(counts))}
	for _, c := range counts {
		m.total += c
	}
	for i, c := range counts {
		m.logPriors[i] = float32(m.logPrior(c))
	}
	return m
}

// logPrior is log((count + 1) / (total + numItems)): add-one smoothing, so that items without
// events keep a finite prior.
func (m *Model) logPrior(count int64) float64 {
	return math.Log(float64(count+1) / float64(m.total+int64(len(m.counts))))
}

// NumItems returns the catalog size: items [0, NumItems) are known.
func (m *Model) NumItems() int { return len(m.counts) }

// Total returns the number of train events counted.
func (m *Model) Total() int64 { return m.total }

// Count returns item's number of train events (0 outside the catalog).
func (m *Model) Count(item int32) int64 {
	if item < 0 || int(item) >= len(m.counts) {
		return 0
	}
	return m.counts[item]
}

// Ranking returns every catalog item, most popular first. It must not be modified.
func (m *Model) Ranking() []int32 { return m.ranking }

// LogPrior returns log P(item) = log((count + 1) / (total + NumItems)). An item outside the
// catalog gets the prior of an item without events.
func (m *Model) LogPrior(item int32) float32 {
	if item < 0 || int(item) >= len(m.counts) {
		return float32(m.logPrior(0))
	}
	return m.logPriors[item]
}

// LogPriors returns LogPrior of every catalog item, indexed by item. It must not be modified.
func (m *Model) LogPriors() []float32 { return m.logPriors }

// Recommend returns the n most popular items, skipping those for which skip is true. Scores are
// the train counts; the order (count, then external ID) is the model's, which can differ from
// candidates.Better on ties.
func (m *Model) Recommend(ctx context.Context, _ candidates.Query, n int, skip func(int32) bool, dst []candidates.Candidate) ([]candidates.Candidate, error) {
	dst = dst[:0]
	if err := ctx.Err(); err != nil {
		return dst, err
	}
	for _, it := range m.ranking {
		if len(dst) >= n {
			break
		}
		if skip != nil && skip(it) {
			continue
		}
		dst = append(dst, candidates.Candidate{Item: it, Score: float32(m.counts[it])})
	}
	return dst, nil
}

// Score sets dst[i] to the train count of items[i], or NaN for an item outside the catalog.
func (m *Model) Score(ctx context.Context, _ candidates.Query, items []int32, dst []float32) error {
	if len(dst) < len(items) {
		return fmt.Errorf("popularity score: dst has %d entries for %d items", len(dst), len(items))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for j, it := range items {
		if it < 0 || int(it) >= len(m.counts) {
			dst[j] = float32(math.NaN())
			continue
		}
		dst[j] = float32(m.counts[it])
	}
	return nil
}

// format is the artifact kind and version of a saved model.
var format = artifact.Format{Kind: "popularity", Version: 1}

// Save writes the model to path as an artifact of kind "popularity" and returns the file's hex
// SHA-256. The ranking is stored, so a loaded model needs no item IDs to break ties.
func (m *Model) Save(path string) (string, error) {
	return format.Save(path, func(e *artifact.Encoder) {
		e.Int(len(m.counts))
		for _, c := range m.counts {
			e.Int(int(c))
		}
		e.Int32s(m.ranking)
	})
}

// Load reads a model written by Save. A damaged or inconsistent file is refused with an error
// wrapping artifact.ErrCorrupt.
func Load(path string) (*Model, error) {
	return artifact.Load(path, format, func(payload []byte) (*Model, error) {
		d := artifact.NewDecoder(payload)
		n := d.Int()
		if n < 0 || n > len(payload)/8 {
			return nil, fmt.Errorf("bad item count %d", n)
		}
		counts := make([]int64, n)
		for i := range counts {
			counts[i] = int64(d.Int())
		}
		ranking := d.Int32s()
		if err := d.Err(); err != nil {
			return nil, err
		}
		if err := checkRanking(counts, ranking); err != nil {
			return nil, err
		}
		return newModel(counts, ranking), nil
	})
}

// checkRanking verifies that ranking is a permutation of the items ordered by non-increasing
// count, and that counts are non-negative.
func checkRanking(counts []int64, ranking []int32) error {
	if len(ranking) != len(counts) {
		return fmt.Errorf("ranking has %d items, counts %d", len(ranking), len(counts))
	}
	seen := make([]bool, len(counts))
	for j, it := range ranking {
		if it < 0 || int(it) >= len(counts) || seen[it] {
			return fmt.Errorf("ranking entry %d (item %d) is out of range or repeated", j, it)
		}
		seen[it] = true
		if counts[it] < 0 || (j > 0 && counts[it] > counts[ranking[j-1]]) {
			return fmt.Errorf("ranking entry %d (item %d) breaks the count order", j, it)
		}
	}
	return nil
}
