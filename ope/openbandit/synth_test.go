package openbandit

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// synthOBD is a data set in the Open Bandit layout whose truth is known: 5 items, a click rate
// q(a, k) = base[a]·posBias[k], a uniform "random" log and a "bts" log drawn from a fixed
// context-free policy that depends strongly on the position, each with its exact propensities.
var (
	synthBase    = []float64{0.05, 0.1, 0.2, 0.3, 0.4}
	synthPosBias = []float64{1, 0.5, 0.25}
	synthBTS     = [][]float64{
		{0.05, 0.05, 0.1, 0.2, 0.6},
		{0.2, 0.2, 0.2, 0.2, 0.2},
		{0.6, 0.2, 0.1, 0.05, 0.05},
	}
)

// Exact values: BTS (1/3)(0.3275 + 0.105 + 0.02625) = 0.45875/3, random (1/3)(0.21 + 0.105 +
// 0.0525) = 0.1225.
const (
	synthBTSValue    = 0.45875 / 3
	synthRandomValue = 0.1225
)

// writeSynthOBD writes campaign "synth" with rows impressions per log under dir.
func writeSynthOBD(t testing.TB, dir string, rows int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	items := len(synthBase)
	start := time.Date(2019, 11, 24, 0, 0, 0, 0, time.UTC)
	for _, policy := range []string{PolicyRandom, PolicyBTS} {
		d := filepath.Join(dir, policy, "synth")
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString(",item_id,item_feature_0\n")
		for a := range items {
			fmt.Fprintf(&b, "%d,%d,%g\n", a, a, float64(a)/10)
		}
		if err := os.WriteFile(filepath.Join(d, "item_context.csv"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		b.Reset()
		b.WriteString(",timestamp,item_id,position,click,propensity_score,user_feature_0\n")
		for i := range rows {
			k := rng.IntN(3)
			var a int
			var p float64
			if policy == PolicyRandom {
				a, p = rng.IntN(items), 1/float64(items)
			} else {
				u := rng.Float64()
				for a = 0; a < items-1 && u >= synthBTS[k][a]; a++ {
					u -= synthBTS[k][a]
				}
				p = synthBTS[k][a]
			}
			click := 0
			if rng.Float64() < synthBase[a]*synthPosBias[k] {
				click = 1
			}
			ts := start.Add(time.Duration(i) * (7 * 24 * time.Hour / time.Duration(rows))).Format("2006-01-02 15:04:05.000000-07:00")
			fmt.Fprintf(&b, "%d,%s,%d,%d,%d,%v,u%d\n", i, ts, a, k+1, click, p, i%3)
		}
		if err := os.WriteFile(filepath.Join(d, "synth.csv"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
