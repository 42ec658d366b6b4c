package gbdt

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// randomModel builds nTrees random trees of nLeaves leaves over nf standard-normal features,
// split leaf by leaf the way the trainer records splits.
func randomModel(seed uint64, nTrees, nLeaves, nf int) *Model {
	rng := rand.New(rand.NewPCG(seed, 3))
	m := &Model{NumFeatures: nf, Objective: "lambdarank"}
	for i := 0; i < nf; i++ {
		m.FeatureNames = append(m.FeatureNames, "f"+string(rune('a'+i%26))+string(rune('0'+i/26)))
		m.FeatureInfos = append(m.FeatureInfos, "[-5:5]")
	}
	for ti := 0; ti < nTrees; ti++ {
		t := newTree(nLeaves)
		parent := make([]int, nLeaves)
		parent[0] = -1
		for t.NumLeaves < nLeaves {
			leaf := rng.IntN(t.NumLeaves)
			node, right := t.NumLeaves-1, t.NumLeaves
			if p := parent[leaf]; p >= 0 {
				if t.LeftChild[p] == ^leaf {
					t.LeftChild[p] = node
				} else {
					t.RightChild[p] = node
				}
			}
			t.SplitFeature = append(t.SplitFeature, rng.IntN(nf))
			t.SplitGain = append(t.SplitGain, 1)
			t.Threshold = append(t.Threshold, rng.NormFloat64()*0.7)
			dt := uint8(decDefaultLeft)
			if rng.IntN(4) == 0 {
				dt = missingNaN << 2 // NaN, default right
			}
			t.DecisionType = append(t.DecisionType, dt)
			t.LeftChild = append(t.LeftChild, ^leaf)
			t.RightChild = append(t.RightChild, ^right)
			t.InternalValue = append(t.InternalValue, 0)
			t.InternalWeight = append(t.InternalWeight, 1)
			t.InternalCount = append(t.InternalCount, 2)
			parent[leaf], parent[right] = node, node
			t.LeafValue[right] = rng.NormFloat64() * 0.1
			t.LeafValue[leaf] = rng.NormFloat64() * 0.1
			t.LeafWeight[leaf], t.LeafWeight[right] = 1, 1
			t.LeafCount[leaf], t.LeafCount[right] = 1, 1
			t.NumLeaves++
		}
		t.finish()
		t.Shrinkage = 0.1
		m.Trees = append(m.Trees, t)
	}
	if err := m.compile(); err != nil {
		panic(err)
	}
	return m
}

func randomRows(seed uint64, n, nf int, nanFrac float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 4))
	x := make([]float64, n*nf)
	for i := range x {
		x[i] = rng.NormFloat64()
		if rng.Float64() < nanFrac {
			x[i] = math.NaN()
		}
	}
	return x
}

func TestScorerMatchesLeavesOnRandomTrees(t *testing.T) {
	m := randomModel(1, 50, 31, 20)
	lm, _ := saveLoad(t, m)
	const n = 2000
	x := randomRows(2, n, 20, 0.05)
	got := make([]float64, n)
	want := make([]float64, n)
	if err := lm.Score(x, got); err != nil {
		t.Fatal(err)
	}
	if err := lm.Leaves().PredictDense(x, n, 20, want, 0, 1); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		sum := 0.0
		for _, tr := range m.Trees {
			sum += tr.Predict(x[i*20 : (i+1)*20])
		}
		if got[i] != want[i] || math.Abs(sum-want[i]) > 1e-12 {
			t.Fatalf("row %d: scorer %v, tree walk %v, leaves %v", i, got[i], sum, want[i])
		}
	}
	if allocs := testing.AllocsPerRun(10, func() { lm.Score(x, got) }); allocs != 0 {
		t.Errorf("Score allocates %v times per batch", allocs)
	}
}

// BenchmarkScore is the serving budget: 500 candidates × 300 trees of 31 leaves × 30
// features on one core (target ≤ 3 ms per batch).
func BenchmarkScore(b *testing.B) {
	m := randomModel(1, 300, 31, 30)
	x := randomRows(2, 500, 30, 0)
	out := make([]float64, 500)
	b.Run("cascade", func(b *testing.B) {
		b.ReportAllocs()
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			m.Score(x, out)
		}
		reportCPU(b, c0)
	})
	b.Run("cascade-5pct-NaN", func(b *testing.B) {
		xn := randomRows(2, 500, 30, 0.05)
		b.ReportAllocs()
		b.ResetTimer()
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			m.Score(xn, out)
		}
		reportCPU(b, c0)
	})
	b.Run("leaves", func(b *testing.B) {
		var buf bytes.Buffer
		m.WriteTo(&buf)
		lm, err := Load(&buf)
		if err != nil {
			b.Fatal(err)
		}
		ens := lm.Leaves()
		b.ReportAllocs()
		b.ResetTimer()
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			ens.PredictDense(x, 500, 30, out, 0, 1)
		}
		reportCPU(b, c0)
	})
}

// BenchmarkScoreTrained is BenchmarkScore on trees grown by the trainer (300 trees, 31 leaves,
// 30 features, trained on a synthetic ranking set), which are deeper than the random ones.
func BenchmarkScoreTrained(b *testing.B) {
	d := synthRank(31, 400, 50, 6, 24, 0)
	p := DefaultParams(ObjectiveLambdarank)
	p.NumTrees, p.NumLeaves, p.MinDataInLeaf = 300, 31, 20
	m, err := Train(context.Background(), d, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	x := d.X[:500*d.NumFeatures]
	out := make([]float64, 500)
	b.Run("cascade", func(b *testing.B) {
		b.ReportAllocs()
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			m.Score(x, out)
		}
		reportCPU(b, c0)
	})
	b.Run("leaves", func(b *testing.B) {
		var buf bytes.Buffer
		m.WriteTo(&buf)
		lm, err := Load(&buf)
		if err != nil {
			b.Fatal(err)
		}
		ens := lm.Leaves()
		b.ReportAllocs()
		b.ResetTimer()
		c0 := processCPU()
		for i := 0; i < b.N; i++ {
			ens.PredictDense(x, 500, d.NumFeatures, out, 0, 1)
		}
		reportCPU(b, c0)
	})
}

// reportCPU adds the CPU time per op since c0 (run with GOMAXPROCS=1 for single-core cost).
func reportCPU(b *testing.B, c0 time.Duration) {
	if c := processCPU(); c > 0 {
		b.ReportMetric(float64(c-c0)/float64(b.N)/1e6, "cpu-ms/op")
	}
}
