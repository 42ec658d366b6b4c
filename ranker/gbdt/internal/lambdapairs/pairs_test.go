package lambdapairs

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// The assembly reads Row by offset.
func TestRowLayout(t *testing.T) {
	var r Row
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"li", unsafe.Offsetof(r.li), 0}, {"si", unsafe.Offsetof(r.si), 32},
		{"gi", unsafe.Offsetof(r.gi), 64}, {"di", unsafe.Offsetof(r.di), 96},
		{"inv", unsafe.Offsetof(r.inv), 128}, {"hund", unsafe.Offsetof(r.hund), 160},
		{"lo", unsafe.Offsetof(r.lo), 192}, {"factor", unsafe.Offsetof(r.factor), 224},
		{"last", unsafe.Offsetof(r.last), 256}, {"negSigma", unsafe.Offsetof(r.negSigma), 288},
		{"sigma2", unsafe.Offsetof(r.sigma2), 320}, {"one", unsafe.Offsetof(r.one), 352},
		{"negZero", unsafe.Offsetof(r.negZero), 384}, {"zero", unsafe.Offsetof(r.zero), 416},
		{"pbuf", unsafe.Offsetof(r.pbuf), 448}, {"norm", unsafe.Offsetof(r.norm), 456},
		{"sum", unsafe.Offsetof(r.sum), 464}, {"lamI", unsafe.Offsetof(r.lamI), 472},
		{"hesI", unsafe.Offsetof(r.hesI), 476}, {"exp", unsafe.Offsetof(r.exp), 480},
		{"exp.sigma", unsafe.Offsetof(r.exp.sigma), 0}, {"exp.log2e", unsafe.Offsetof(r.exp.log2e), 32},
		{"exp.ln2u", unsafe.Offsetof(r.exp.ln2u), 64}, {"exp.ln2l", unsafe.Offsetof(r.exp.ln2l), 96},
		{"exp.sixteenth", unsafe.Offsetof(r.exp.sixteenth), 128}, {"exp.c64", unsafe.Offsetof(r.exp.c64), 160},
		{"exp.c56", unsafe.Offsetof(r.exp.c56), 192}, {"exp.c48", unsafe.Offsetof(r.exp.c48), 224},
		{"exp.c40", unsafe.Offsetof(r.exp.c40), 256}, {"exp.c32", unsafe.Offsetof(r.exp.c32), 288},
		{"exp.c24", unsafe.Offsetof(r.exp.c24), 320}, {"exp.half", unsafe.Offsetof(r.exp.half), 352},
		{"exp.two", unsafe.Offsetof(r.exp.two), 384}, {"exp.bias", unsafe.Offsetof(r.exp.bias), 416},
		{"exp.magic", unsafe.Offsetof(r.exp.magic), 448},
	} {
		if c.got != c.want {
			t.Errorf("Row.%s at offset %d, the assembly reads %d", c.name, c.got, c.want)
		}
	}
}

// The kernel's sigmoid, computed rather than loaded, equals every entry of the table (σ = 1;
// a sample of them for other σ), and the table's clamping outside its range (and NaN, which goes to the first
// entry where At would panic).
func TestKernelSigmoidIsTheTable(t *testing.T) {
	if !UseAVX2 {
		t.Skip("no assembly kernel on this machine or build")
	}
	for _, sigma := range []float64{1, 0.5, 2.5} {
		tab := NewTable(sigma)
		var r Row
		r.Init(tab, sigma)
		// Document i has label 1 and score 0, the others label 0 and score -Δ: Δ_j = Δ.
		r.Doc(1, 0, 1, 1, 0, 0)
		check := func(delta []float64) {
			t.Helper()
			lab, sc := make([]float64, len(delta)), make([]float64, len(delta))
			for k, d := range delta {
				sc[k] = -d
			}
			r.probs(lab, sc)
			for k, d := range delta {
				want := tab.v[0] // for NaN, where At would panic
				if d == d {
					want = tab.At(d)
				}
				if math.Float64bits(r.p[k]) != math.Float64bits(want) {
					t.Fatalf("σ %v: Δ %v: %v, table %v", sigma, d, r.p[k], want)
				}
			}
		}
		// Every bin for the default σ = 1, every 61st for the others (the suite stays fast).
		stride := 1
		if sigma != 1 {
			stride = 61
		}
		var delta []float64
		for k := 0; k < len(tab.v); k += stride {
			delta = append(delta, tab.lo+(float64(k)+0.5)/tab.factor) // the middle of bin k
		}
		for len(delta)%4 != 0 {
			delta = append(delta, 0)
		}
		check(delta)
		check([]float64{tab.lo, tab.hi, tab.lo - 1e-9, tab.hi + 1e-9, -1e300, 1e300, math.Inf(-1), math.Inf(1),
			tab.lo + 1e-12, tab.hi - 1e-12, 0, math.Copysign(0, -1), 1e-300, -1e-300, math.NaN(), 3.7})
	}
}

// rowCase draws one document against m others.
type rowCase struct {
	li, si, gi, di float64
	lamI, hesI     float32
	sum            float64
	lab, sc, gain  []float64
	disc           []float64
	lam, hes       []float32
}

func drawCase(rng *rand.Rand, m, labels int, scoreScale float64, gains []float64, pad int) rowCase {
	c := rowCase{
		li: float64(rng.IntN(labels)), si: scoreScale * rng.NormFloat64(), di: 1 / math.Log2(2+float64(rng.IntN(30))),
		lamI: float32(rng.NormFloat64()), hesI: float32(rng.Float64()), sum: -rng.Float64(),
	}
	c.gi = gains[int(c.li)]
	for j := 0; j < m; j++ {
		l := float64(rng.IntN(labels))
		if j >= m-pad {
			l = math.NaN()
		}
		c.lab = append(c.lab, l)
		c.sc = append(c.sc, scoreScale*rng.NormFloat64())
		g := 0.0
		if l == l {
			g = gains[int(l)]
		}
		c.gain = append(c.gain, g)
		c.disc = append(c.disc, 1/math.Log2(2+float64(30+j)))
		var lam, hes float32 // a fresh document: +0 (never -0, see Run)
		if rng.IntN(3) > 0 {
			lam, hes = float32(rng.NormFloat64()), float32(rng.Float64())
		}
		c.lam = append(c.lam, lam)
		c.hes = append(c.hes, hes)
	}
	return c
}

func (c rowCase) run(r *Row) (lam, hes []float32, lamI, hesI float32, sum float64) {
	lam, hes = append([]float32(nil), c.lam...), append([]float32(nil), c.hes...)
	r.Doc(c.li, c.si, c.gi, c.di, c.lamI, c.hesI)
	r.sum = c.sum
	r.Run(c.lab, c.sc, c.gain, c.disc, lam, hes)
	lamI, hesI, sum = r.Sums()
	return
}

func same32(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// The kernel gives the portable loop's bits: every λ_j, h_j, the document's sums and Σ, over
// label ties, NaN padding, scores inside and far outside the table, +0 starting values,
// gains that are not monotone in the label or equal for two labels, with and without
// normalisation.
func TestKernelMatchesLoop(t *testing.T) {
	if !UseAVX2 {
		t.Skip("no assembly kernel on this machine or build")
	}
	rng := rand.New(rand.NewPCG(5, 11))
	monotone := make([]float64, 31)
	for i := range monotone {
		monotone[i] = float64(uint64(1)<<i - 1)
	}
	odd := []float64{0, 7, 3, 3, -2, 1e-30, 1e30, 0}
	for _, tc := range []struct {
		name       string
		labels     int
		scoreScale float64
		gains      []float64
		sigma      float64
		norm       bool
	}{
		{"ltr-synth shape", 5, 3, monotone, 1, true},
		{"two labels", 2, 1, monotone, 1, true},
		{"31 labels", 31, 2, monotone, 1, true},
		{"outside the table", 5, 40, monotone, 1, true},
		{"far outside", 5, 1e200, monotone, 1, true},
		{"tiny scores", 5, 1e-9, monotone, 1, true},
		{"no norm", 5, 3, monotone, 1, false},
		{"sigma 2.5", 5, 3, monotone, 2.5, true},
		{"odd gains", len(odd), 3, odd, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := NewTable(tc.sigma)
			var asm, port Row
			asm.Init(tab, tc.sigma)
			port.Init(tab, tc.sigma)
			for it := 0; it < 300; it++ {
				m := 4 * (1 + rng.IntN(30))
				c := drawCase(rng, m, tc.labels, tc.scoreScale, tc.gains, rng.IntN(4))
				inv := rng.Float64()
				asm.Query(inv, tc.norm)
				port.Query(inv, tc.norm)
				lamA, hesA, lamIA, hesIA, sumA := c.run(&asm)
				UseAVX2 = false
				lamP, hesP, lamIP, hesIP, sumP := c.run(&port)
				UseAVX2 = true
				if !same32(lamIA, lamIP) || !same32(hesIA, hesIP) || math.Float64bits(sumA) != math.Float64bits(sumP) {
					t.Fatalf("case %d: sums (%v, %v, %v), loop (%v, %v, %v)", it, lamIA, hesIA, sumA, lamIP, hesIP, sumP)
				}
				for j := range lamA {
					if !same32(lamA[j], lamP[j]) || !same32(hesA[j], hesP[j]) {
						t.Fatalf("case %d lane %d (label %v vs %v): (%v, %v), loop (%v, %v)", it, j, c.lab[j], c.li, lamA[j], hesA[j], lamP[j], hesP[j])
					}
				}
			}
		})
	}
}

// Padding lanes and pairs of equal labels leave everything as it was.
func TestSkippedLanesChangeNothing(t *testing.T) {
	tab := NewTable(1)
	var r Row
	r.Init(tab, 1)
	r.Query(0.1, true)
	nan := math.NaN()
	lam := []float32{0, 1, 0, -3}
	hes := []float32{0, 2, 0, 5}
	r.Doc(1, 0.5, 1, 1, 0, 0.25)
	r.sum = 0
	r.Run([]float64{nan, 1, 1, nan}, []float64{0, 0.2, 9, 0}, []float64{0, 1, 1, 0}, []float64{0.5, 0.4, 0.3, 0.2}, lam, hes)
	li, hi, sum := r.Sums()
	if !same32(li, 0) || hi != 0.25 || math.Float64bits(sum) != 0 {
		t.Errorf("sums (%v, %v, %v) after skipped lanes only", li, hi, sum)
	}
	for j, want := range []float32{0, 1, 0, -3} {
		if !same32(lam[j], want) {
			t.Errorf("λ_%d = %v, want %v", j, lam[j], want)
		}
	}
	for j, want := range []float32{0, 2, 0, 5} {
		if !same32(hes[j], want) {
			t.Errorf("h_%d = %v, want %v", j, hes[j], want)
		}
	}
}

// BenchmarkRun is ltr-synth's shape: 96 documents below the top one, labels 0-4, scores of
// spread 3.
func BenchmarkRun(b *testing.B) {
	for _, kernel := range []bool{false, true} {
		if kernel && !UseAVX2 {
			continue
		}
		name := "loop"
		if kernel {
			name = "avx2"
		}
		b.Run(name, func(b *testing.B) {
			saved := UseAVX2
			UseAVX2 = kernel
			defer func() { UseAVX2 = saved }()
			rng := rand.New(rand.NewPCG(1, 2))
			gains := []float64{0, 1, 3, 7, 15}
			c := drawCase(rng, 96, 5, 3, gains, 0)
			var r Row
			r.Init(NewTable(1), 1)
			r.Query(0.05, true)
			for i := 0; i < b.N; i++ {
				r.Doc(c.li, c.si, c.gi, c.di, 0, 0)
				r.Run(c.lab, c.sc, c.gain, c.disc, c.lam, c.hes)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*96), "ns/pair")
		})
	}
}
