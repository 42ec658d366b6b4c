package twotower

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/cascade-rec/cascade/dataset"
)

// world is a small synthetic interaction log with sequential structure: items sit in clusters
// (their genre), and a user's next item is usually one of the few successors of the previous
// item in its cluster, otherwise a popular item. History therefore predicts the next item far
// better than popularity does.
type world struct {
	events   []dataset.Event
	numUsers int
	numItems int
	attrs    *dataset.Attributes
}

func newWorld(seed uint64, numUsers, numItems, clusters, minLen, maxLen int) *world {
	rng := rand.New(rand.NewPCG(seed, 99))
	w := &world{numUsers: numUsers, numItems: numItems}
	per := numItems / clusters
	genre := dataset.CategoricalColumn{Name: "genre", Dict: dataset.NewDict(), Values: make([][]int32, numItems)}
	for c := 0; c < clusters; c++ {
		genre.Dict.Add(string(rune('a' + c)))
	}
	year := dataset.NumericColumn{Name: "year", Values: make([]float32, numItems)}
	for i := 0; i < numItems; i++ {
		genre.Values[i] = []int32{int32(min(i/per, clusters-1))}
		if i%7 == 3 {
			genre.Values[i] = append(genre.Values[i], int32((i/per+1)%clusters))
		}
		year.Values[i] = float32(1990 + i%30)
		if i%11 == 0 {
			year.Values[i] = float32(math.NaN())
		}
	}
	w.attrs = &dataset.Attributes{Categorical: []dataset.CategoricalColumn{genre}, Numeric: []dataset.NumericColumn{year}}
	// Zipf-like popularity for the noise component.
	cum := make([]float64, numItems)
	var s float64
	for i := range cum {
		s += 1 / math.Pow(float64(i+1), 0.8)
		cum[i] = s
	}
	popular := func() int32 {
		x := rng.Float64() * s
		return int32(sort.SearchFloat64s(cum, x))
	}
	for u := 0; u < numUsers; u++ {
		n := minLen + rng.IntN(maxLen-minLen+1)
		t := int64(1_000_000 + rng.IntN(5_000_000))
		cur := int32(rng.IntN(numItems))
		seen := map[int32]bool{}
		for k := 0; k < n; k++ {
			var next int32
			for try := 0; ; try++ {
				if rng.Float64() < 0.8 {
					c := min(int(cur)/per, clusters-1) * per
					size := per
					if c/per == clusters-1 {
						size = numItems - c // the last cluster takes the remainder
					}
					next = int32(c + (int(cur)-c+1+rng.IntN(3))%size)
				} else {
					next = popular()
				}
				if !seen[next] || try > 20 {
					break
				}
				cur = next
			}
			seen[next] = true
			w.events = append(w.events, dataset.Event{User: int32(u), Item: next, Time: t, Value: float32(math.NaN())})
			cur = next
			t += int64(60 + rng.IntN(200_000))
		}
	}
	sort.SliceStable(w.events, func(i, j int) bool { return w.events[i].Time < w.events[j].Time })
	return w
}

func (w *world) trainData(events []dataset.Event) TrainData {
	return TrainData{Events: events, NumUsers: w.numUsers, NumItems: w.numItems, ItemAttrs: w.attrs}
}

// smallParams is a fast configuration for tests.
func smallParams() Params {
	p := DefaultParams()
	p.Dim = 16
	p.Hidden = []int{32}
	p.HistoryLen = 10
	p.Heads = 2
	p.AttrDim = 4
	p.ContextDim = 2
	p.UserBuckets = 16
	p.BatchSize = 64
	p.Epochs = 4
	p.LearningRate = 5e-3
	p.Temperature = 0.1
	p.ValidationFraction = 0
	return p
}
