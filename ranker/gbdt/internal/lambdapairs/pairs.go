// Package lambdapairs is the inner loop of LambdaMART's λ-gradients: one document against the
// documents ranked below it, with LightGBM's sigmoid table and float32 accumulation, so that the
// trainer reproduces LightGBM's trees bit for bit.
//
// Row.Run computes every pair's λ and hessian four pairs at a time (AVX2 and FMA assembly on
// amd64) and adds them in pair order, so the sums are the ones the scalar loop gives. The
// kernel computes each pair's sigmoid table entry with the operations that filled the table
// (math.Exp's FMA path) instead of loading it: the table is 8 MB and its loads miss the
// cache. The portable loop runs elsewhere, under the purego build tag, or when UseAVX2 is off;
// the tests hold the two to the same bits.
package lambdapairs

import "math"

// Hundredth is LightGBM's 0.01f, promoted to double where it regularises ΔNDCG.
const Hundredth = float64(float32(0.01))

// Table is LightGBM's lookup table for the pair probability 1/(1+exp(σx)): 2^20 bins over
// [-25/σ, 25/σ], clamped outside. Using it (rather than exp) reproduces LightGBM's gradients,
// and with them its trees.
type Table struct {
	lo, hi, factor float64
	v              []float64
}

// NewTable fills the table for sigmoid parameter σ > 0.
func NewTable(sigma float64) *Table {
	const bins = 1 << 20
	t := &Table{lo: -50 / sigma / 2}
	t.hi = -t.lo
	t.factor = bins / (t.hi - t.lo)
	t.v = make([]float64, bins)
	for i := range t.v {
		x := float64(i)/t.factor + t.lo
		t.v[i] = 1 / (1 + math.Exp(x*sigma))
	}
	return t
}

// At is LightGBM's GetSigmoid(x).
func (t *Table) At(x float64) float64 {
	switch {
	case x <= t.lo:
		return t.v[0]
	case x >= t.hi:
		return t.v[len(t.v)-1]
	}
	return t.v[int((x-t.lo)*t.factor)]
}

// Row holds one document's constants and running sums while it meets the documents ranked
// below it. The assembly reads the fields by offset: keep the order (TestRowLayout checks it).
// The constants are broadcast to four lanes so that the kernel takes them as memory operands.
type Row struct {
	li, si, gi, di              [4]float64 // label, score, label gain, discount of document i
	inv, hund, lo, factor       [4]float64 // 1/maxDCG, 0.01f, table start, bins per unit
	last, negSigma, sigma2, one [4]float64 // last table index, -σ, σ², 1
	negZero, zero               [4]float64 // -0 (the sign bit), +0
	pbuf                        *float64   // &p[0]
	norm                        int64      // divide ΔNDCG by 0.01+|Δs|
	sum                         float64
	lamI, hesI                  float32
	exp                         expConsts
	t                           *Table
	sigma                       float64
	p                           []float64 // each lane's p, then scratch: the kernel's
}

// expConsts are σ and math.Exp's constants (src/math/exp_amd64.s), broadcast: the kernel
// computes the table's entries again rather than loading them (a gather from 8 MB misses the
// cache; the arithmetic does not).
type expConsts struct {
	sigma, log2e, ln2u, ln2l, sixteenth [4]float64
	c64, c56, c48, c40, c32, c24, half  [4]float64
	two                                 [4]float64
	bias                                [4]int64   // the float64 exponent bias, 1023
	magic                               [4]float64 // 1.5·2^52
}

// Init sets the table and σ; call it once.
func (r *Row) Init(t *Table, sigma float64) {
	r.t, r.sigma = t, sigma
	r.hund = splat(Hundredth)
	r.lo = splat(t.lo)
	r.factor = splat(t.factor)
	r.last = splat(float64(len(t.v) - 1))
	r.negSigma = splat(-sigma)
	r.sigma2 = splat(sigma * sigma)
	r.one = splat(1)
	r.negZero = splat(math.Copysign(0, -1))
	r.exp = expConsts{
		sigma:     splat(sigma),
		log2e:     splat(1.4426950408889634073599246810018920),
		ln2u:      splat(0.69314718055966295651160180568695068359375),
		ln2l:      splat(0.28235290563031577122588448175013436025525412068e-12),
		sixteenth: splat(0.0625),
		c64:       splat(2.4801587301587301587e-5), c56: splat(1.9841269841269841270e-4),
		c48: splat(1.3888888888888888889e-3), c40: splat(8.3333333333333333333e-3),
		c32: splat(4.1666666666666666667e-2), c24: splat(1.6666666666666666667e-1),
		half: splat(0.5), two: splat(2), bias: [4]int64{1023, 1023, 1023, 1023}, magic: splat(0x1.8p52),
	}
}

// Query sets the query's 1/maxDCG and whether ΔNDCG is normalised by the score distance, and
// zeroes the query's Σ|λ| sum.
func (r *Row) Query(invMaxDCG float64, norm bool) {
	r.inv = splat(invMaxDCG)
	r.norm = 0
	if norm {
		r.norm = 1
	}
	r.sum = 0
}

// Doc starts document i (label, score, gain, discount) with its λ and hessian sums so far.
func (r *Row) Doc(li, si, gi, di float64, lamI, hesI float32) {
	r.li, r.si, r.gi, r.di = splat(li), splat(si), splat(gi), splat(di)
	r.lamI, r.hesI = lamI, hesI
}

// Sums are document i's λ and hessian sums after Run, and the query's running -Σ2·pλ.
func (r *Row) Sums() (lamI, hesI float32, sum float64) { return r.lamI, r.hesI, r.sum }

// Run adds document i's pairs with documents j = 0..len(lab)-1 (those ranked below it, label,
// score, gain and discount in lab, sc, gain, disc): for every j whose label differs,
// λ_i += l, λ_j -= l, h_i += h, h_j += h in float32 and sum -= 2·pλ, in j order. len(lab) is a
// multiple of 4; lanes with a NaN label are padding and change nothing. All slices have
// len(lab) elements.
//
// No sum may be -0 (λ_i, h_i and Query's sum start at +0 and λ_j, h_j are set to +0 before a
// query, and sums of finite values that start at +0 never reach -0): the kernel adds ±0 for
// the pairs it skips, which is the identity on every other value.
func (r *Row) Run(lab, sc, gain, disc []float64, lam, hes []float32) {
	m := len(lab)
	if m == 0 {
		return
	}
	if m%4 != 0 || len(sc) != m || len(gain) != m || len(disc) != m || len(lam) != m || len(hes) != m {
		panic("lambdapairs: Run needs slices of one length, a multiple of 4")
	}
	if UseAVX2 {
		r.probs(lab, sc)
		pairsAVX2(r, m, &lab[0], &sc[0], &gain[0], &disc[0], &lam[0], &hes[0])
		return
	}
	r.runGo(lab, sc, gain, disc, lam, hes)
}

// probs fills r.p[:len(lab)] with the kernel's p of each lane (UseAVX2 only).
func (r *Row) probs(lab, sc []float64) {
	m := len(lab)
	if cap(r.p) < 2*m {
		r.p = make([]float64, 2*m)
	}
	r.p = r.p[:2*m]
	r.pbuf = &r.p[0]
	probsAVX2(r, m, &lab[0], &sc[0])
}

// runGo is the portable loop and the oracle: the scalar loop the trainer had before the
// kernel, one pair at a time.
func (r *Row) runGo(lab, sc, gain, disc []float64, lam, hes []float32) {
	li, si, gi, di := r.li[0], r.si[0], r.gi[0], r.di[0]
	inv, sig, sig2 := r.inv[0], r.sigma, r.sigma2[0]
	norm := r.norm != 0
	lamI, hesI, sum := r.lamI, r.hesI, r.sum
	for j, lj := range lab {
		if lj == li || lj != lj {
			continue
		}
		// sgn is +1 when i is the better-labelled document of the pair, -1 when j is.
		// Negating a difference is exact, so this equals LightGBM's high/low form bit
		// for bit.
		sgn := -1.0
		if li > lj {
			sgn = 1
		}
		delta := sgn * (si - sc[j])
		dNDCG := sgn * (gi - gain[j]) * math.Abs(di-disc[j]) * inv
		if norm {
			dNDCG /= Hundredth + math.Abs(delta)
		}
		p := r.t.At(delta)
		pLambda := p * (-sig * dNDCG)
		pHess := p * (1 - p) * (sig2 * dNDCG)
		// LightGBM accumulates in float32 (score_t).
		l32 := float32(sgn * pLambda)
		h32 := float32(pHess)
		lamI += l32
		hesI += h32
		lam[j] -= l32
		hes[j] += h32
		sum -= 2 * pLambda
	}
	r.lamI, r.hesI, r.sum = lamI, hesI, sum
}

func splat(x float64) [4]float64 { return [4]float64{x, x, x, x} }
