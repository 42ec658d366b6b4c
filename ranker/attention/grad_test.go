package attention

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/nn"
)

// The checks below compare every hand-written gradient with central differences, first stage by
// stage (attention unit, pooling, output MLP, losses), then through the whole model.

var checkOpt = nn.CheckOptions{Eps: 1e-3, RelTol: 2e-2, AbsTol: 2e-3}

// tinyCase is a small request on a small net with weights large enough to make every term matter.
type tinyCase struct {
	nt      *net
	history []int32
	cands   []int32
	dense   []float32
	labels  []float32
	r       []float32 // random upstream weights
}

const tinyItems = 12

// newTiny returns a case for the seed, moved on to the next seed while some pre-activation of the
// DIN unit lies within a finite-difference step of its ReLU kink (a difference across the kink
// measures neither side's slope).
func newTiny(t *testing.T, attention string, softmax bool, seed uint64) *tinyCase {
	t.Helper()
	for {
		tc := makeTiny(attention, softmax, seed)
		if attention != AttentionDIN || minAbsPre(tc) > 0.05 {
			return tc
		}
		seed += 1000
	}
}

// minAbsPre is the smallest |pre-activation| of the DIN unit over the case's pairs.
func minAbsPre(tc *tinyCase) float64 {
	nt, w := tc.nt, new(work)
	nt.embed(w, tc.history, tc.cands)
	d, A := nt.d, nt.a
	W := nt.att1.W
	best := math.Inf(1)
	for c := range w.n {
		cv := w.cx[c*(d+1) : c*(d+1)+d]
		for j := range w.l {
			h := w.h[j*d : (j+1)*d]
			for a := range A {
				z := float64(nt.attB1.W[a])
				for k := range d {
					z += float64(h[k])*float64(W[k*A+a]) + float64(cv[k])*float64(W[(d+k)*A+a]) +
						float64(h[k]-cv[k])*float64(W[(2*d+k)*A+a]) + float64(h[k]*cv[k])*float64(W[(3*d+k)*A+a])
				}
				best = math.Min(best, math.Abs(z))
			}
		}
	}
	return best
}

func makeTiny(attention string, softmax bool, seed uint64) *tinyCase {
	p := DefaultParams()
	p.Attention, p.Softmax = attention, softmax
	p.Dim, p.AttentionHidden, p.Hidden, p.HistoryLen = 4, 3, []int{5}, 5
	p.EmbeddingStd = 0.7
	rng := rand.New(rand.NewPCG(seed, 1))
	nt := newNet(p, tinyItems, 2, rng)
	// Non-zero biases and a non-identity W_q so that no term vanishes.
	for _, q := range nt.params() {
		if q.Name != "item" {
			for i := range q.W {
				q.W[i] += float32(rng.NormFloat64() * 0.3)
			}
		}
	}
	nt.mean[0], nt.std[0] = 0.5, 2
	tc := &tinyCase{
		nt: nt,
		// 7 history items: the first two fall outside L = 5; 13 is unknown and skipped.
		history: []int32{0, 1, 2, 3, 13, 4, 2, 5},
		cands:   []int32{6, 2, 7, 14, 8},
		dense:   []float32{1, 2, 0.5, -1, float32(math.NaN()), 0, 3, 1, -2, 0.25},
		labels:  []float32{0, 1, 0, 0, 1},
	}
	tc.r = make([]float32, 64)
	for i := range tc.r {
		tc.r[i] = float32(rng.NormFloat64())
	}
	return tc
}

// weighted returns Σ r[i]·v[i] in float64.
func weighted(r, v []float32) float64 {
	var s float64
	for i, x := range v {
		s += float64(r[i%len(r)]) * float64(x)
	}
	return s
}

func zeroGrads(nt *net) {
	for _, q := range nt.params() {
		q.ZeroGrad()
	}
}

// checkNetParams checks the gradients of every parameter except the standardisation.
func checkNetParams(t *testing.T, name string, nt *net, loss func() float64) {
	t.Helper()
	if err := nn.CheckParams(nt.params(), loss, checkOpt); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

var variants = []struct {
	attention string
	softmax   bool
}{
	{AttentionDIN, true},
	{AttentionDIN, false},
	{AttentionDot, true},
	{AttentionMean, false},
}

func variantName(attention string, softmax bool) string {
	if attention == AttentionDIN {
		return fmt.Sprintf("%s/softmax=%v", attention, softmax)
	}
	return attention
}

// TestGradActivationUnit checks the DIN activation unit alone: loss = Σ r ⊙ a (the unit's
// outputs for every candidate × history pair) with respect to its weights and the embeddings of
// both the history and the candidates (through the folded GEMM).
func TestGradActivationUnit(t *testing.T) {
	for seed := range uint64(3) {
		tc := newTiny(t, AttentionDIN, false, seed)
		nt, w := tc.nt, new(work)
		loss := func() float64 {
			nt.embed(w, tc.history, tc.cands)
			w.s = kernel.Grow(w.s, w.n*w.l)
			nt.dinForward(w, true)
			return weighted(tc.r, w.s[:w.n*w.l])
		}
		loss()
		zeroGrads(nt)
		n, l, d := w.n, w.l, nt.d
		w.ds = kernel.Grow(w.ds, n*l)
		for i := range w.ds {
			w.ds[i] = tc.r[i%len(tc.r)]
		}
		w.dh = kernel.Grow(w.dh, l*d)
		clear(w.dh)
		w.dc = kernel.Grow(w.dc, n*d)
		clear(w.dc)
		nt.dinBackward(w)
		nt.scatter(w)
		checkNetParams(t, fmt.Sprintf("activation unit (seed %d)", seed), nt, loss)
	}
}

// TestGradPooling checks pooling and the attention weights for every variant: loss = Σ r ⊙ p.
func TestGradPooling(t *testing.T) {
	for _, v := range variants {
		tc := newTiny(t, v.attention, v.softmax, 7)
		nt, w := tc.nt, new(work)
		loss := func() float64 {
			nt.embed(w, tc.history, tc.cands)
			nt.attend(w, true)
			return weighted(tc.r, w.p[:w.n*nt.d])
		}
		loss()
		zeroGrads(nt)
		w.dp = kernel.Grow(w.dp, w.n*nt.d)
		for i := range w.dp {
			w.dp[i] = tc.r[i%len(tc.r)]
		}
		w.dc = kernel.Grow(w.dc, w.n*nt.d)
		clear(w.dc)
		nt.poolBackward(w)
		nt.scatter(w)
		checkNetParams(t, "pooling "+variantName(v.attention, v.softmax), nt, loss)
	}
}

// TestGradOutputMLP checks the output MLP alone, with respect to its weights and its input rows.
func TestGradOutputMLP(t *testing.T) {
	tc := newTiny(t, AttentionDIN, true, 3)
	nt, w := tc.nt, new(work)
	nt.forward(w, tc.history, tc.cands, tc.dense, true)
	loss := func() float64 { return weighted(tc.r, nt.mlpForward(w)) }
	loss()
	zeroGrads(nt)
	dl := make([]float32, w.n)
	copy(dl, tc.r)
	nt.mlpBackward(w, dl)
	var ps nn.Params
	for _, l := range nt.mlp {
		ps = append(ps, l.Params()...)
	}
	if err := nn.CheckParams(ps, loss, checkOpt); err != nil {
		t.Error(err)
	}
	dx := append([]float32(nil), w.dx[:len(w.x)]...)
	if err := nn.CheckGradient("mlp input", w.x, dx, loss, checkOpt); err != nil {
		t.Error(err)
	}
}

// TestGradLosses checks both losses with respect to the logits.
func TestGradLosses(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	logits := make([]float32, 7)
	for i := range logits {
		logits[i] = float32(rng.NormFloat64() * 2)
	}
	labelSets := [][]float32{
		{0, 1, 0, 0, 0, 0, 0},
		{1, 0, 0, 1, 0, 1, 0},
		{0.5, 0, 0, 1, 0, 0, 0.25},
		{0, 0, 0, 0, 0, 0, 0},
	}
	losses := map[string]func(logits, labels []float32, scale float32, d []float32) float64{
		LossBCE: bceLoss, LossSoftmax: softmaxLoss,
	}
	for name, f := range losses {
		for _, y := range labelSets {
			grad := make([]float32, len(logits))
			scratch := make([]float32, len(logits))
			f(logits, y, 0.5, grad)
			loss := func() float64 { return 0.5 * f(logits, y, 1, scratch) }
			if err := nn.CheckGradient(name, logits, grad, loss, nn.CheckOptions{Eps: 1e-3}); err != nil {
				t.Errorf("%s with labels %v: %v", name, y, err)
			}
		}
	}
	// Known values.
	g := make([]float32, 2)
	if got, want := bceLoss([]float32{0, 0}, []float32{1, 0}, 1, g), math.Log(2); math.Abs(got-want) > 1e-12 || g[0] != -0.25 || g[1] != 0.25 {
		t.Errorf("bce(0, 0 | 1, 0) = %v %v, want %v [-0.25 0.25]", got, g, want)
	}
	if got, want := softmaxLoss([]float32{0, 0}, []float32{1, 0}, 1, g), math.Log(2); math.Abs(got-want) > 1e-12 || g[0] != -0.5 || g[1] != 0.5 {
		t.Errorf("softmax(0, 0 | 1, 0) = %v %v, want %v [-0.5 0.5]", got, g, want)
	}
}

// TestGradModel checks the whole model, every variant with both losses.
func TestGradModel(t *testing.T) {
	for _, v := range variants {
		for _, lossName := range []string{LossBCE, LossSoftmax} {
			tc := newTiny(t, v.attention, v.softmax, 11)
			nt, w := tc.nt, new(work)
			lf := bceLoss
			if lossName == LossSoftmax {
				lf = softmaxLoss
			}
			scratch := make([]float32, len(tc.cands))
			loss := func() float64 {
				return lf(nt.forward(w, tc.history, tc.cands, tc.dense, true), tc.labels, 1, scratch)
			}
			zeroGrads(nt)
			dl := make([]float32, len(tc.cands))
			lf(nt.forward(w, tc.history, tc.cands, tc.dense, true), tc.labels, 1, dl)
			nt.backward(w, dl)
			checkNetParams(t, variantName(v.attention, v.softmax)+" "+lossName, nt, loss)
		}
	}
}

// TestForwardMatchesNaive compares the folded DIN computation with a direct evaluation of
// w₂·ReLU(W₁·[h, c, h−c, h⊙c] + b₁) + b₂ for every pair, serving path (blocked) included.
func TestForwardMatchesNaive(t *testing.T) {
	tc := newTiny(t, AttentionDIN, false, 2)
	nt := tc.nt
	// More candidates than a serving block, to cross block boundaries.
	var cands []int32
	for i := range 2*blockRows + 5 {
		cands = append(cands, int32(i%tinyItems))
	}
	for _, train := range []bool{true, false} {
		w := new(work)
		nt.embed(w, tc.history, cands)
		nt.attend(w, train)
		d, A := nt.d, nt.a
		W := nt.att1.W
		for c := range w.n {
			cv := w.cx[c*(d+1) : c*(d+1)+d]
			for j := range w.l {
				h := w.h[j*d : (j+1)*d]
				in := make([]float64, 4*d)
				for k := range d {
					in[k], in[d+k], in[2*d+k], in[3*d+k] = float64(h[k]), float64(cv[k]), float64(h[k]-cv[k]), float64(h[k]*cv[k])
				}
				want := float64(nt.attB2.W[0]) + float64(nt.pos.W[w.l-1-j])
				for a := range A {
					z := float64(nt.attB1.W[a])
					for r := range 4 * d {
						z += in[r] * float64(W[r*A+a])
					}
					want += math.Max(z, 0) * float64(nt.att2.W[a])
				}
				if got := float64(w.s[c*w.l+j]); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
					t.Fatalf("train=%v pair (%d, %d): %v, want %v", train, c, j, got, want)
				}
			}
		}
	}
}
