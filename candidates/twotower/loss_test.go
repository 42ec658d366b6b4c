package twotower

import (
	"math"
	"testing"
)

// explicitSoftmax is the textbook in-batch softmax over item slots (duplicates kept): row b's
// logits are u_b·v_slot/τ − logq(slot); a slot other than b's own holding b's positive is masked.
func explicitSoftmax(U [][]float64, vec map[int32][]float64, slots []int32, logq map[int32]float64, tau float64, mask bool) float64 {
	var total float64
	for b, u := range U {
		var z []float64
		own := 0.0
		for j, it := range slots {
			if mask && j != b && it == slots[b] {
				continue
			}
			var s float64
			for k := range u {
				s += u[k] * vec[it][k]
			}
			l := s/tau - logq[it]
			if j == b {
				own = l
			}
			z = append(z, l)
		}
		m := math.Inf(-1)
		for _, v := range z {
			m = math.Max(m, v)
		}
		var se float64
		for _, v := range z {
			se += math.Exp(v - m)
		}
		total += m + math.Log(se) - own
	}
	return total / float64(len(U))
}

// handBatch: three queries whose positives are items 7, 9 and 7 (a duplicate), plus one uniform
// negative, item 9 again.
func handBatch() (U [][]float64, vec map[int32][]float64, slots []int32, cols batchCols) {
	U = [][]float64{{1, 0}, {0.6, 0.8}, {0, 1}}
	vec = map[int32][]float64{7: {0.8, 0.6}, 9: {-0.6, 0.8}}
	slots = []int32{7, 9, 7, 9}
	cols = batchCols{items: []int32{7, 9}, pos: []int32{0, 1, 0}, mult: []float32{2, 2}}
	return
}

func flat(rows [][]float64) []float32 {
	var out []float32
	for _, r := range rows {
		for _, v := range r {
			out = append(out, float32(v))
		}
	}
	return out
}

func TestSoftmaxLossFormula(t *testing.T) {
	U, vec, slots, cols := handBatch()
	Uf := flat(U)
	Vf := flat([][]float64{vec[7], vec[9]})
	const tau = 0.5
	dU, dV, z := make([]float32, 6), make([]float32, 4), make([]float32, 6)

	cols.logq = []float32{0, 0}
	none := softmaxLoss(Uf, Vf, 2, &cols, tau, dU, dV, z)
	wantNone := explicitSoftmax(U, vec, slots, map[int32]float64{}, tau, true)
	if math.Abs(none-wantNone) > 1e-5 {
		t.Errorf("no correction: loss %.7f, formula %.7f", none, wantNone)
	}

	// logQ: q(7) = 0.5, q(9) = 0.25 subtract log q from every logit of the item.
	lq := map[int32]float64{7: math.Log(0.5), 9: math.Log(0.25)}
	cols.logq = []float32{float32(lq[7]), float32(lq[9])}
	withQ := softmaxLoss(Uf, Vf, 2, &cols, tau, dU, dV, z)
	wantQ := explicitSoftmax(U, vec, slots, lq, tau, true)
	if math.Abs(withQ-wantQ) > 1e-5 {
		t.Errorf("logQ: loss %.7f, formula %.7f", withQ, wantQ)
	}
	if math.Abs((withQ-none)-(wantQ-wantNone)) > 1e-5 || math.Abs(withQ-none) < 1e-3 {
		t.Errorf("logQ changed the loss by %.7f, formula says %.7f", withQ-none, wantQ-wantNone)
	}
}

func TestAccidentalHitsMasked(t *testing.T) {
	U, vec, slots, cols := handBatch()
	Uf := flat(U)
	Vf := flat([][]float64{vec[7], vec[9]})
	cols.logq = []float32{0, 0}
	dU, dV, z := make([]float32, 6), make([]float32, 4), make([]float32, 6)
	got := softmaxLoss(Uf, Vf, 2, &cols, 0.5, dU, dV, z)
	masked := explicitSoftmax(U, vec, slots, map[int32]float64{}, 0.5, true)
	unmasked := explicitSoftmax(U, vec, slots, map[int32]float64{}, 0.5, false)
	if math.Abs(got-masked) > 1e-5 {
		t.Errorf("loss %.7f, masked formula %.7f", got, masked)
	}
	if math.Abs(got-unmasked) < 1e-3 {
		t.Errorf("loss %.7f equals the unmasked formula %.7f: accidental hits not masked", got, unmasked)
	}

	// Through the trainer: rows 0 and 2 share their positive, so one column serves both and the
	// shared item is never a negative of either.
	w := newWorld(2, 10, 30, 3, 5, 8)
	p := smallParams()
	p.Correction = CorrectionNone
	feats, _ := newItemFeatures(w.attrs, w.numItems)
	tr, err := newTrainer(w.trainData(w.events), w.events, nil, 0, feats, p, quietOptions(1))
	if err != nil {
		t.Fatal(err)
	}
	batch := append([]sample(nil), tr.samples[:3]...)
	batch[2] = batch[0]
	tr.assemble(batch)
	c := &tr.cols
	if c.pos[0] != c.pos[2] || c.mult[c.pos[0]] != 2 {
		t.Fatalf("duplicated positive: columns %v, multiplicities %v", c.pos, c.mult)
	}
}

// TestLogQTerms checks the correction terms the trainer assembles: exact counts, and the
// mixture with the uniform distribution under mixed negatives.
func TestLogQTerms(t *testing.T) {
	w := newWorld(3, 30, 50, 5, 5, 10)
	p := smallParams()
	p.Correction, p.LogQEstimator, p.Negatives, p.MixedNegatives = CorrectionLogQ, EstimatorCounts, NegativesMixed, 5
	feats, _ := newItemFeatures(w.attrs, w.numItems)
	tr, err := newTrainer(w.trainData(w.events), w.events, nil, 0, feats, p, quietOptions(1))
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]float64, w.numItems)
	for _, s := range tr.samples {
		counts[tr.seq.items[s.idx]]++
	}
	batch := tr.samples[:8]
	tr.assemble(batch)
	c := &tr.cols
	B, M, N := 8.0, 5.0, float64(w.numItems)
	var slots float32
	for k, it := range c.items {
		q := math.Max(counts[it], 0.5) / float64(len(tr.samples))
		want := math.Log((B*q + M/N) / (B + M))
		if math.Abs(float64(c.logq[k])-want) > 1e-5 {
			t.Errorf("item %d: logq %.6f, want %.6f", it, c.logq[k], want)
		}
		slots += c.mult[k]
	}
	if slots != 13 {
		t.Errorf("%v item slots, want 8 positives + 5 uniform", slots)
	}

	// The streaming estimator converges to the true rate of a regular item: one seen every
	// 4 steps in batches of 10 has p = 1/40.
	s := newStreamingFreq(1024, 0.1, 10, 100)
	for step := int64(1); step <= 400; step++ {
		if step%4 == 0 {
			s.observe(step, []int32{42})
		}
	}
	if p := s.prob(42); math.Abs(p-1.0/40) > 1e-3 {
		t.Errorf("streaming estimate %.5f, want 0.025", p)
	}
}
