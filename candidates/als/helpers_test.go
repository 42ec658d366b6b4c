package als

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/candidates"
	"github.com/cascade-rec/cascade/dataset"
)

// randomCounts returns a rows×cols count matrix with about perRow distinct entries per row, each
// a count in [1, maxCount]. Row emptyRow and column emptyCol (if ≥ 0) are left empty.
func randomCounts(seed uint64, rows, cols, perRow, maxCount, emptyRow, emptyCol int) *dataset.Matrix {
	rng := rand.New(rand.NewPCG(seed, 1))
	var ev []dataset.Event
	for u := range rows {
		if u == emptyRow {
			continue
		}
		for _, i := range rng.Perm(cols)[:min(perRow, cols)] {
			if i == emptyCol {
				continue
			}
			for range 1 + rng.IntN(maxCount) {
				ev = append(ev, dataset.Event{User: int32(u), Item: int32(i)})
			}
		}
	}
	return dataset.UserItemMatrix(ev, rows, cols, dataset.Count)
}

// world is a synthetic low-rank interaction log: users and items have latent factors, and each
// user's items are drawn without replacement from softmax(affinity + log Zipf popularity).
type world struct {
	numUsers, numItems int
	itemIDs            []string
	train              []dataset.Event
	test               [][]int32 // held-out items per user
	history            [][]int32 // train items per user, in event order
}

func newWorld(seed uint64, numUsers, numItems, dim, perUser, heldOut int) *world {
	rng := rand.New(rand.NewPCG(seed, 2))
	gauss := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	uf, vf := gauss(numUsers*dim), gauss(numItems*dim)
	logPop := make([]float64, numItems)
	for rank, i := range rng.Perm(numItems) {
		logPop[i] = -0.8 * math.Log(float64(rank+1)) // Zipf with exponent 0.8
	}
	w := &world{numUsers: numUsers, numItems: numItems, test: make([][]int32, numUsers), history: make([][]int32, numUsers)}
	for i := range numItems {
		w.itemIDs = append(w.itemIDs, string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676)))
	}
	type keyed struct {
		item int32
		key  float64
	}
	keys := make([]keyed, numItems)
	t := int64(0)
	for u := range numUsers {
		for i := range numItems {
			var aff float64
			for d := range dim {
				aff += uf[u*dim+d] * vf[i*dim+d]
			}
			// Gumbel-top-k draws perUser items without replacement from the softmax.
			g := -math.Log(-math.Log(rng.Float64()))
			keys[i] = keyed{int32(i), 3*aff/math.Sqrt(float64(dim)) + logPop[i] + g}
		}
		slices.SortFunc(keys, func(a, b keyed) int {
			if a.key > b.key {
				return -1
			}
			if a.key < b.key {
				return 1
			}
			return 0
		})
		picked := make([]int32, perUser)
		for j := range picked {
			picked[j] = keys[j].item
		}
		rng.Shuffle(len(picked), func(a, b int) { picked[a], picked[b] = picked[b], picked[a] })
		w.test[u] = picked[:heldOut]
		for _, it := range picked[heldOut:] {
			w.train = append(w.train, dataset.Event{User: int32(u), Item: it, Time: t, Value: float32(math.NaN())})
			w.history[u] = append(w.history[u], it)
			t++
		}
	}
	return w
}

// hitRate is hr@k of src over the world's held-out items, with the user's train items excluded.
func (w *world) hitRate(t *testing.T, src candidates.Source, k int) float64 {
	t.Helper()
	var hits, steps int
	var dst []candidates.Candidate
	for u := range w.numUsers {
		seen := w.history[u]
		skip := func(it int32) bool { return slices.Contains(seen, it) }
		var err error
		dst, err = src.Recommend(t.Context(), candidates.Query{User: int32(u), History: seen}, k, skip, dst)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range w.test[u] {
			steps++
			for _, c := range dst {
				if c.Item == target {
					hits++
				}
			}
		}
	}
	return float64(hits) / float64(steps)
}

// historyOf expands row u of a count matrix into a shuffled history that repeats each item as
// many times as its count.
func historyOf(r *dataset.Matrix, u int, rng *rand.Rand) []int32 {
	var h []int32
	idx, cnt := r.Row(u)
	for n, i := range idx {
		for range int(cnt[n]) {
			h = append(h, i)
		}
	}
	rng.Shuffle(len(h), func(a, b int) { h[a], h[b] = h[b], h[a] })
	return h
}

func relDiff(a, b float64) float64 {
	return math.Abs(a-b) / max(math.Abs(a), math.Abs(b), 1e-300)
}
