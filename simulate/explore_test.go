package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// slateKey names an ordered slate.
func slateKey(picked []int) string { return fmt.Sprint(picked) }

// TestExplorePropensities checks each mode's logged propensities against the frequencies of
// the slates it draws: the product of a slate's propensities is its probability, so over every
// ordered slate the products sum to one and match the observed frequencies.
func TestExplorePropensities(t *testing.T) {
	scores := []float64{0.3, 2, -1, 1.2, 0.9}
	const k, draws = 3, 60000
	tests := []struct {
		name string
		e    explorer
		// slates is how many distinct slates the mode can draw; 0 when some are too improbable
		// to be sure to appear.
		slates int
	}{
		{"none", explorer{mode: ExploreNone}, 1},
		{"epsilon", explorer{mode: ExploreEpsilon, epsilon: 0.3}, 5 * 4 * 3},
		{"softmax", explorer{mode: ExploreSoftmax, temperature: 1}, 5 * 4 * 3},
		{"softmax cold", explorer{mode: ExploreSoftmax, temperature: 0.5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			count := map[string]int{}
			prob := map[string]float64{}
			for range draws {
				picked, prop, err := tt.e.choose(r, scores, k)
				if err != nil {
					t.Fatal(err)
				}
				if len(picked) != k || len(prop) != k {
					t.Fatalf("slate %v with propensities %v, want %d of each", picked, prop, k)
				}
				seen := map[int]bool{}
				p := 1.0
				for j, i := range picked {
					if seen[i] {
						t.Fatalf("slate %v repeats %d", picked, i)
					}
					seen[i] = true
					if !(prop[j] > 0 && prop[j] <= 1) {
						t.Fatalf("propensity %v out of (0, 1]", prop[j])
					}
					p *= prop[j]
				}
				key := slateKey(picked)
				count[key]++
				if old, ok := prob[key]; ok && math.Abs(old-p) > 1e-12 {
					t.Fatalf("slate %s logged with probability %v and %v", key, old, p)
				}
				prob[key] = p
			}
			if tt.slates > 0 && len(count) != tt.slates {
				t.Errorf("%d distinct slates drawn, want %d", len(count), tt.slates)
			}
			var total float64
			for key, p := range prob {
				total += p
				n := float64(count[key])
				if sd := math.Sqrt(draws * p * (1 - p)); math.Abs(n-draws*p) > 5*sd+1 {
					t.Errorf("slate %s drawn %v times, its propensities say %.1f", key, n, draws*p)
				}
			}
			if math.Abs(total-1) > 0.02 {
				t.Errorf("the drawn slates' probabilities sum to %v (most slates should have been drawn)", total)
			}
		})
	}
}

// Without exploration the slate is the top k by score, ties by index.
func TestExploreNoneIsTopK(t *testing.T) {
	picked, prop, err := explorer{mode: ExploreNone}.choose(nil, []float64{1, 3, 3, 2, 0}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 3, 0}; !slices.Equal(picked, want) {
		t.Errorf("picked %v, want %v", picked, want)
	}
	if !slices.Equal(prop, []float64{1, 1, 1, 1}) {
		t.Errorf("propensities %v, want all 1", prop)
	}
	// Fewer candidates than slots: every candidate, no more.
	picked, _, _ = explorer{mode: ExploreSoftmax, temperature: 1}.choose(rand.New(rand.NewPCG(1, 1)), []float64{0, 1}, 5)
	if len(picked) != 2 {
		t.Errorf("picked %v from 2 candidates", picked)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
}
