package hist

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The assembly loop gives the portable loop's bits, bin for bin, with rows in order and
// scattered, repeated bins (a bin's additions depend on their order) and gradients of mixed
// magnitudes.
func TestAdd4MatchesLoop(t *testing.T) {
	if !UseAsm {
		t.Skip("no assembly loop on this platform or build")
	}
	rng := rand.New(rand.NewPCG(2, 3))
	const n = 5000
	var cols [4][]uint8
	for k := range cols {
		cols[k] = make([]uint8, n)
		for r := range cols[k] {
			cols[k][r] = uint8(rng.IntN(1 + 255>>(2*k))) // few bins in the last columns: many repeats
		}
	}
	for _, keep := range []float64{1, 0.3, 0.01} {
		var rows []int32
		for r := 0; r < n; r++ {
			if rng.Float64() < keep {
				rows = append(rows, int32(r))
			}
		}
		if len(rows) == 0 {
			rows = []int32{int32(n - 1)}
		}
		ordered := make([]float64, 2*len(rows))
		for i := range ordered {
			ordered[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-6))
		}
		var want, got [4][512]float64
		for k := range want {
			for b := range want[k] {
				want[k][b] = rng.NormFloat64()
				got[k][b] = want[k][b]
			}
		}
		add4Go(rows, ordered, cols[0], cols[1], cols[2], cols[3], &want[0], &want[1], &want[2], &want[3])
		Add4(rows, ordered, cols[0], cols[1], cols[2], cols[3], &got[0], &got[1], &got[2], &got[3])
		for k := range want {
			for b := range want[k] {
				if math.Float64bits(got[k][b]) != math.Float64bits(want[k][b]) {
					t.Fatalf("keep %v: histogram %d, element %d: %v, loop %v", keep, k, b, got[k][b], want[k][b])
				}
			}
		}
	}
}
