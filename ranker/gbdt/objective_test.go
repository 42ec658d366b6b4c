package gbdt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cascade-rec/cascade/ranker/gbdt/internal/lambdapairs"
)

// refLambdas is LightGBM's LambdarankNDCG::GetGradientsForOneQuery transcribed loop for loop
// (stable sort by score, float32 accumulation in pair order): the oracle the optimised
// kernel must match bit for bit, since the trainer reproduces LightGBM's trees.
func refLambdas(o *lambdarank, label, score []float64, invMaxDCG float64) (lam, hes []float64) {
	n := len(label)
	lam, hes = make([]float64, n), make([]float64, n)
	if n <= 1 || invMaxDCG == 0 {
		return
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case score[a] > score[b]:
			return -1
		case score[a] < score[b]:
			return 1
		}
		return 0
	})
	best, worst := score[idx[0]], score[idx[n-1]]
	l32, h32 := make([]float32, n), make([]float32, n)
	sum := 0.0
	for i := 0; i < n-1 && i < o.truncation; i++ {
		for j := i + 1; j < n; j++ {
			a, b := idx[i], idx[j]
			if label[a] == label[b] {
				continue
			}
			hr, lr := i, j
			if label[a] < label[b] {
				hr, lr = j, i
			}
			high, low := idx[hr], idx[lr]
			delta := score[high] - score[low]
			dcgGap := o.labelGain[int(label[high])] - o.labelGain[int(label[low])]
			dNDCG := dcgGap * math.Abs(discount(hr)-discount(lr)) * invMaxDCG
			if o.norm && best != worst {
				dNDCG /= float32Hundredth + math.Abs(delta)
			}
			p := o.table.At(delta)
			pHess := p * (1 - p)
			pLambda := p * (-o.sigmoid * dNDCG)
			pHess *= o.sigmoid * o.sigmoid * dNDCG
			l32[hr] += float32(pLambda)
			h32[hr] += float32(pHess)
			l32[lr] -= float32(pLambda)
			h32[lr] += float32(pHess)
			sum -= 2 * pLambda
		}
	}
	f := 1.0
	if o.norm && sum > 0 {
		f = math.Log2(1+sum) / sum
	}
	for r, i := range idx {
		lam[i] = float64(float32(float64(l32[r]) * f))
		hes[i] = float64(float32(float64(h32[r]) * f))
	}
	return
}

// The kernel equals the transcription bit for bit, over rounds (it reuses the previous
// round's order), with ties in labels and scores, truncation, many label values and one
// or two workers; with the pair kernel in assembly (where the machine has it) and with the
// portable loop.
func TestLambdaGradientsExact(t *testing.T) {
	saved := lambdapairs.UseAVX2
	defer func() { lambdapairs.UseAVX2 = saved }()
	for _, kernel := range []bool{false, true} {
		if kernel && !saved {
			t.Log("no assembly pair kernel here: the portable loop only")
			continue
		}
		lambdapairs.UseAVX2 = kernel
		t.Run(map[bool]string{false: "portable", true: "avx2"}[kernel], testLambdaGradientsExact)
	}
}

func testLambdaGradientsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	for _, tc := range []struct {
		name            string
		queries, docs   int
		labels, trunc   int
		scoreTies, norm bool
	}{
		{"ltr-synth shape", 40, 100, 5, 30, false, true},
		{"short queries", 200, 3, 3, 30, false, true},
		{"ties", 50, 20, 2, 30, true, true},
		{"truncation 1", 30, 15, 4, 1, false, true},
		{"31 labels", 10, 80, 31, 30, false, true},
		{"no norm", 30, 40, 5, 10, false, false},
		{"mixed sizes", 60, 0, 5, 30, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Dataset{NumFeatures: 1, Source: tc.name}
			for q := 0; q < tc.queries; q++ {
				n := tc.docs
				if n == 0 {
					n = 1 + rng.IntN(120)
				}
				for i := 0; i < n; i++ {
					d.Labels = append(d.Labels, float64(rng.IntN(tc.labels)))
				}
				d.Groups = append(d.Groups, n)
				d.NumRows += n
			}
			d.X = make([]float64, d.NumRows)
			p := DefaultParams(ObjectiveLambdarank)
			p.LambdarankTruncationLevel = tc.trunc
			p.LambdarankNoNorm = !tc.norm
			for _, workers := range []int{1, 2} {
				o, err := newLambdarank(d, &p, workers)
				if err != nil {
					t.Fatal(err)
				}
				score := make([]float64, d.NumRows)
				g, h := make([]float64, d.NumRows), make([]float64, d.NumRows)
				for round := 0; round < 4; round++ {
					for i := range score {
						if tc.scoreTies {
							score[i] = float64(rng.IntN(3))
						} else if round > 0 {
							score[i] += 0.1 * rng.NormFloat64() // small moves, as between boosting rounds
						} else {
							score[i] = rng.NormFloat64()
						}
					}
					o.gradients(score, g, h)
					for q := 0; q+1 < len(o.groups); q++ {
						b, e := o.groups[q], o.groups[q+1]
						wg, wh := refLambdas(o, d.Labels[b:e], score[b:e], o.invMaxDCG[q])
						for i := range wg {
							if math.Float64bits(g[b+i]) != math.Float64bits(wg[i]) || math.Float64bits(h[b+i]) != math.Float64bits(wh[i]) {
								t.Fatalf("workers %d round %d query %d doc %d: (%v, %v), LightGBM's loop (%v, %v)",
									workers, round, q, i, g[b+i], h[b+i], wg[i], wh[i])
							}
						}
					}
				}
			}
		})
	}
}

// BenchmarkLambdarankGradients is one boosting round's λ-gradients on ltr-synth's shape
// (2,000 queries of 100 documents, labels 0-4, truncation 30) on one worker. Spread 3 is the
// spread of ltr-synth's scores after 300 trees, whose pairs reach 1.5 MB of the sigmoid table;
// at spread 0.01 (the first rounds) they stay within a few kB.
func BenchmarkLambdarankGradients(b *testing.B) {
	for _, spread := range []float64{3, 0.01} {
		b.Run(fmt.Sprintf("spread=%g", spread), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			const queries, docs = 2000, 100
			d := &Dataset{NumRows: queries * docs, NumFeatures: 1, X: make([]float64, queries*docs)}
			score := make([]float64, d.NumRows)
			for i := 0; i < d.NumRows; i++ {
				d.Labels = append(d.Labels, float64(min(4, rng.IntN(6))))
				score[i] = spread * rng.NormFloat64()
			}
			for q := 0; q < queries; q++ {
				d.Groups = append(d.Groups, docs)
			}
			p := DefaultParams(ObjectiveLambdarank)
			o, err := newLambdarank(d, &p, 1)
			if err != nil {
				b.Fatal(err)
			}
			g, h := make([]float64, d.NumRows), make([]float64, d.NumRows)
			o.gradients(score, g, h)
			b.ReportAllocs()
			b.ResetTimer()
			c0 := processCPU()
			for i := 0; i < b.N; i++ {
				o.gradients(score, g, h)
			}
			reportCPU(b, c0)
		})
	}
}
