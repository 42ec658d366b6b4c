package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 1)) }

func randVec(rng *rand.Rand, n int, std float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * std)
	}
	return x
}

// proj is the test loss Σ r·y in float64; its gradient with respect to y is r.
func proj(y, r []float32) float64 {
	var s float64
	for i, v := range y {
		s += float64(v) * float64(r[i])
	}
	return s
}

func check(t *testing.T, name string, x, g []float32, loss func() float64) {
	t.Helper()
	if err := CheckGradient(name, x, g, loss, CheckOptions{}); err != nil {
		t.Error(err)
	}
}

func checkParams(t *testing.T, ps Params, loss func() float64) {
	t.Helper()
	if err := CheckParams(ps, loss, CheckOptions{}); err != nil {
		t.Error(err)
	}
}

// leadingDims returns the row strides of packed row-major op(A) (m×k) and op(B) (k×n) as stored:
// transposed, a matrix's rows are its op's columns.
func leadingDims(transA, transB bool, m, n, k int) (lda, ldb int) {
	lda, ldb = k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	return lda, ldb
}

func TestGemmMatchesNaive(t *testing.T) {
	rng := newRNG(1)
	for _, sz := range [][3]int{{3, 4, 5}, {70, 200, 33}, {130, 130, 130}, {1, 300, 7}, {9, 17, 600}, {50, 50, 32}} {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				a, b := randVec(rng, m*k, 1), randVec(rng, k*n, 1)
				c := randVec(rng, m*n, 1)
				want := make([]float64, m*n)
				lda, ldb := leadingDims(ta, tb, m, n, k)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var s float64
						for l := 0; l < k; l++ {
							var av, bv float32
							if ta {
								av = a[l*lda+i]
							} else {
								av = a[i*lda+l]
							}
							if tb {
								bv = b[j*ldb+l]
							} else {
								bv = b[l*ldb+j]
							}
							s += float64(av) * float64(bv)
						}
						want[i*n+j] = 2*s + 0.5*float64(c[i*n+j])
					}
				}
				Gemm(ta, tb, m, n, k, 2, a, lda, b, ldb, 0.5, c, n)
				for i := range want {
					if math.Abs(want[i]-float64(c[i])) > 1e-3*(1+math.Abs(want[i])) {
						t.Fatalf("%v ta=%v tb=%v: c[%d]=%g want %g", sz, ta, tb, i, c[i], want[i])
					}
				}
			}
		}
	}
}

// TestGemmOverwriteEdges checks that Gemm with beta = 0, whose ragged edges are recomputed by
// overlapping blocks, stores the same bits as adding to a zero C (the padded path) and writes
// nothing outside the m×n block of a wider C.
func TestGemmOverwriteEdges(t *testing.T) {
	rng := newRNG(9)
	for _, m := range []int{1, 5, 6, 7, 13, 50, 101} {
		for _, n := range []int{3, 15, 16, 17, 33, 50} {
			for _, k := range []int{1, 32, 50, 300} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
					ta, tb := tr[0], tr[1]
					a, b := randVec(rng, m*k, 1), randVec(rng, k*n, 1)
					lda, ldb := leadingDims(ta, tb, m, n, k)
					ldc := n + 3
					got, want := make([]float32, m*ldc), make([]float32, m*ldc)
					for i := range got {
						got[i] = 7
						if i%ldc >= n {
							want[i] = 7
						}
					}
					Gemm(ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0, got, ldc)
					Gemm(ta, tb, m, n, k, 1.5, a, lda, b, ldb, 1, want, ldc)
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%d×%d×%d ta=%v tb=%v: c[%d] = %g, want %g", m, n, k, ta, tb, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestLinearGradient(t *testing.T) {
	rng := newRNG(2)
	n, in, out := 5, 7, 4
	l := NewLinear("lin", in, out, rng)
	l.B.InitNormal(rng, 0.1)
	x, r := randVec(rng, n*in, 1), randVec(rng, n*out, 1)
	y, dx := make([]float32, n*out), make([]float32, n*in)
	loss := func() float64 { l.Forward(x, n, y); return proj(y, r) }
	loss()
	l.Backward(x, r, n, dx)
	checkParams(t, l.Params(), loss)
	check(t, "x", x, dx, loss)
}

func TestEmbeddingGradient(t *testing.T) {
	rng := newRNG(3)
	for _, sparse := range []bool{false, true} {
		e := NewEmbedding("emb", 6, 3, sparse, 1, rng)
		ids := []int32{1, 4, 1, -1, 0}
		y := make([]float32, len(ids)*5) // stride 5 > dim: embeddings written into a wider row
		r := randVec(rng, len(y), 1)
		loss := func() float64 { e.Forward(ids, y, 5); return proj(y, r) }
		loss()
		e.Backward(ids, r, 5)
		checkParams(t, Params{e.T}, loss)
		if sparse {
			if got := e.T.TouchedRows(); len(got) != 3 || got[0] != 1 || got[1] != 4 || got[2] != 0 {
				t.Errorf("touched rows %v, want [1 4 0]", got)
			}
		}

		// Mean bag: bags {1,2}, {}, {5}, {0,0,3}.
		e.T.ZeroGrad()
		off := []int32{0, 2, 2, 3, 6}
		bagIDs := []int32{1, 2, 5, 0, 0, 3}
		yb := make([]float32, 4*3)
		rb := randVec(rng, len(yb), 1)
		bagLoss := func() float64 { e.MeanBagForward(off, bagIDs, yb, 3); return proj(yb, rb) }
		bagLoss()
		e.MeanBagBackward(off, bagIDs, rb, 3)
		checkParams(t, Params{e.T}, bagLoss)
	}
}

func TestLayerNormGradient(t *testing.T) {
	rng := newRNG(4)
	n, d := 4, 8
	l := NewLayerNorm("ln", d)
	l.Gain.InitNormal(rng, 1)
	l.Bias.InitNormal(rng, 1)
	x, r := randVec(rng, n*d, 2), randVec(rng, n*d, 1)
	y, st, dx := make([]float32, n*d), make([]float32, 2*n), make([]float32, n*d)
	loss := func() float64 { l.Forward(x, n, y, st); return proj(y, r) }
	loss()
	l.Backward(x, r, n, st, dx)
	checkParams(t, l.Params(), loss)
	check(t, "x", x, dx, loss)
}

func TestActivationGradients(t *testing.T) {
	rng := newRNG(5)
	x := randVec(rng, 40, 1)
	for i, v := range x { // keep away from ReLU's kink
		if math.Abs(float64(v)) < 0.05 {
			x[i] = 0.3
		}
	}
	r := randVec(rng, 40, 1)
	y, dx := make([]float32, 40), make([]float32, 40)
	relu := func() float64 { ReLU(x, y); return proj(y, r) }
	relu()
	ReLUBackward(y, r, dx)
	check(t, "relu", x, dx, relu)
	gelu := func() float64 { GELU(x, y); return proj(y, r) }
	gelu()
	GELUBackward(x, r, dx)
	check(t, "gelu", x, dx, gelu)
}

func TestPoolAndNormalizeGradients(t *testing.T) {
	rng := newRNG(6)
	d := 3
	off := []int32{0, 3, 3, 4, 8}
	x := randVec(rng, 8*d, 1)
	r := randVec(rng, 4*d, 1)
	y, dx := make([]float32, 4*d), make([]float32, 8*d)
	pool := func() float64 { MeanPool(x, d, off, y); return proj(y, r) }
	pool()
	MeanPoolBackward(r, d, off, dx)
	check(t, "meanpool", x, dx, pool)
	if y[3] != 0 || y[4] != 0 || y[5] != 0 {
		t.Errorf("empty sequence pooled to %v, want zeros", y[3:6])
	}

	n := 5
	xn := randVec(rng, n*d, 1)
	rn := randVec(rng, n*d, 1)
	yn, norms, dxn := make([]float32, n*d), make([]float32, n), make([]float32, n*d)
	norm := func() float64 { L2Normalize(xn, n, d, yn, norms); return proj(yn, rn) }
	norm()
	L2NormalizeBackward(yn, rn, n, d, norms, dxn)
	check(t, "l2norm", xn, dxn, norm)
}

func TestAttentionGradient(t *testing.T) {
	rng := newRNG(7)
	d, h := 8, 2
	a := NewMultiHeadAttention("att", d, h, rng)
	a.QKV.B.InitNormal(rng, 0.1)
	a.Out.B.InitNormal(rng, 0.1)
	off := []int32{0, 4, 4, 5, 8} // lengths 4, 0, 1, 3
	T := int(off[len(off)-1])
	x, r := randVec(rng, T*d, 1), randVec(rng, T*d, 1)
	y, dx := make([]float32, T*d), make([]float32, T*d)
	var st AttentionState
	loss := func() float64 { a.Forward(x, off, y, &st); return proj(y, r) }
	loss()
	a.Backward(x, r, off, &st, dx)
	checkParams(t, a.Params(), loss)
	check(t, "x", x, dx, loss)

	// Positions only see their own sequence: changing sequence 0 leaves sequence 3 alone.
	a.Forward(x, off, y, &st)
	before := append([]float32(nil), y[5*d:]...)
	x[0] += 1
	a.Forward(x, off, y, &st)
	for i, v := range y[5*d:] {
		if v != before[i] {
			t.Fatal("attention leaked across sequences")
		}
	}
}

func TestSoftmaxCrossEntropyGradient(t *testing.T) {
	rng := newRNG(8)
	rows, cols := 3, 5
	z := randVec(rng, rows*cols, 2)
	z[1*cols+3] = float32(math.Inf(-1)) // masked
	target := []int32{0, 2, 4}
	g := make([]float32, len(z))
	loss := func() float64 {
		tmp := make([]float32, len(z))
		return SoftmaxCrossEntropy(z, rows, cols, target, 1, tmp) / 3
	}
	got := SoftmaxCrossEntropy(z, rows, cols, target, 1.0/3, g)
	if g[1*cols+3] != 0 {
		t.Errorf("masked logit has gradient %g", g[1*cols+3])
	}
	// Closed form for row 0.
	var s float64
	for _, v := range z[:cols] {
		s += math.Exp(float64(v))
	}
	want0 := math.Log(s) - float64(z[0])
	if rowLoss := SoftmaxCrossEntropy(z[:cols], 1, cols, target[:1], 1, make([]float32, cols)); math.Abs(rowLoss-want0) > 1e-5 {
		t.Errorf("row loss %g, want %g", rowLoss, want0)
	}
	if math.Abs(got/3-loss()) > 1e-9 {
		t.Errorf("scaled loss mismatch")
	}
	z[1*cols+3] = -1e30 // finite stand-in so that the checker can perturb it
	check(t, "logits", z, g, loss)
}

// A small stack checked end to end, gradients flowing through every layer type.
func TestStackGradient(t *testing.T) {
	rng := newRNG(9)
	d, n := 4, 6
	emb := NewEmbedding("emb", 10, d, true, 0.5, rng)
	att := NewMultiHeadAttention("att", d, 2, rng)
	ln := NewLayerNorm("ln", d)
	lin := NewLinear("lin", d, d, rng)
	ids := []int32{3, 1, 4, 1, 5, 9}
	off := []int32{0, 2, 6}
	target := []int32{7, 2}
	ps := Params{emb.T}
	ps = append(ps, att.Params()...)
	ps = append(ps, ln.Params()...)
	ps = append(ps, lin.Params()...)
	x := make([]float32, n*d)
	a := make([]float32, n*d)
	hbuf := make([]float32, n*d)
	st := make([]float32, 2*n)
	pooled := make([]float32, 2*d)
	z := make([]float32, 2*d)
	u := make([]float32, 2*d)
	norms := make([]float32, 2)
	logits := make([]float32, 2*10)
	var ast AttentionState
	forward := func(dl []float32) float64 {
		emb.Forward(ids, x, d)
		att.Forward(x, off, a, &ast)
		for i := range a {
			a[i] += x[i]
		}
		ln.Forward(a, n, hbuf, st)
		MeanPool(hbuf, d, off, pooled)
		lin.Forward(pooled, 2, z)
		GELU(z, u)
		L2Normalize(u, 2, d, u, norms)
		// logits against the embedding table itself, scaled by 1/τ with τ = 0.5
		Gemm(false, true, 2, 10, d, 2, u, d, emb.T.W, d, 0, logits, 10)
		if dl == nil {
			dl = make([]float32, len(logits))
		}
		return SoftmaxCrossEntropy(logits, 2, 10, target, 0.5, dl) / 2
	}
	loss := func() float64 { return forward(nil) }
	dl := make([]float32, len(logits))
	forward(dl)
	ps.ZeroGrad()
	du := make([]float32, 2*d)
	Gemm(false, false, 2, d, 10, 2, dl, 10, emb.T.W, d, 0, du, d)
	// table gradient from the logits: dE += 2·dlᵀ·u
	for j := 0; j < 10; j++ {
		g := emb.T.GradRow(j)
		for b := 0; b < 2; b++ {
			Axpy(2*dl[b*10+j], u[b*d:(b+1)*d], g)
		}
	}
	L2NormalizeBackward(u, du, 2, d, norms, du)
	GELUBackward(z, du, du)
	dp := make([]float32, 2*d)
	lin.Backward(pooled, du, 2, dp)
	dh := make([]float32, n*d)
	MeanPoolBackward(dp, d, off, dh)
	da := make([]float32, n*d)
	ln.Backward(a, dh, n, st, da)
	dx := make([]float32, n*d)
	att.Backward(x, da, off, &ast, dx)
	for i := range dx {
		dx[i] += da[i]
	}
	emb.Backward(ids, dx, d)
	checkParams(t, ps, loss)
}

func TestReplicaAddGrad(t *testing.T) {
	rng := newRNG(10)
	e := NewEmbedding("emb", 5, 2, true, 1, rng)
	l := NewLinear("lin", 2, 3, rng)
	r1, r2 := e.Replica(), e.Replica()
	l1, l2 := l.Replica(), l.Replica()
	ids := []int32{0, 3, 3, 1}
	dy := randVec(rng, 4*2, 1)
	x := randVec(rng, 4*2, 1)
	dz := randVec(rng, 4*3, 1)
	// Whole batch on the master, halves on the replicas.
	e.Backward(ids, dy, 2)
	l.Backward(x, dz, 4, nil)
	r1.Backward(ids[:2], dy[:4], 2)
	r2.Backward(ids[2:], dy[4:], 2)
	l1.Backward(x[:4], dz[:6], 2, nil)
	l2.Backward(x[4:], dz[6:], 2, nil)
	want, wantW := append([]float32(nil), e.T.DenseGrad()...), append([]float32(nil), l.W.G...)
	e.T.ZeroGrad()
	l.W.ZeroGrad()
	e.T.AddGrad(r1.T)
	e.T.AddGrad(r2.T)
	l.W.AddGrad(l1.W)
	l.W.AddGrad(l2.W)
	for i, v := range e.T.DenseGrad() {
		if math.Abs(float64(v-want[i])) > 1e-6 {
			t.Fatalf("embedding grad %d: %g want %g", i, v, want[i])
		}
	}
	for i, v := range l.W.G {
		if math.Abs(float64(v-wantW[i])) > 1e-5 {
			t.Fatalf("linear grad %d: %g want %g", i, v, wantW[i])
		}
	}
	if &r1.T.W[0] != &e.T.W[0] {
		t.Error("replica does not share weights")
	}
}

func TestAdam(t *testing.T) {
	// Minimise Σ (w - 3)² on a dense parameter and on two rows of a sparse one.
	dense := NewParam("d", 1, 4, false)
	sparse := NewParam("s", 4, 2, true)
	sparse.Fill(1)
	opt := NewAdam(Params{dense, sparse}, AdamConfig{LR: 0.1})
	for step := 0; step < 500; step++ {
		dense.ZeroGrad()
		sparse.ZeroGrad()
		for j, w := range dense.W {
			dense.G[j] = 2 * (w - 3)
		}
		for _, r := range []int{1, 3} {
			g := sparse.GradRow(r)
			for j, w := range sparse.Row(r) {
				g[j] = 2 * (w - 3)
			}
		}
		opt.Step()
	}
	for _, w := range dense.W {
		if math.Abs(float64(w)-3) > 1e-2 {
			t.Fatalf("dense weights %v, want 3", dense.W)
		}
	}
	for r := 0; r < 4; r++ {
		want := float32(1)
		if r == 1 || r == 3 {
			want = 3
		}
		for _, w := range sparse.Row(r) {
			if math.Abs(float64(w-want)) > 1e-2 {
				t.Fatalf("sparse row %d = %v, want %v (untouched rows must not move)", r, sparse.Row(r), want)
			}
		}
	}
}

func TestSparseGradNoAllocs(t *testing.T) {
	p := NewParam("s", 100, 8, true)
	ids := []int32{5, 7, 5, 99, 0}
	dy := make([]float32, 5*8)
	e := &Embedding{Dim: 8, T: p}
	e.Backward(ids, dy, 8)
	p.ZeroGrad()
	allocs := testing.AllocsPerRun(100, func() {
		e.Backward(ids, dy, 8)
		p.ZeroGrad()
	})
	if allocs != 0 {
		t.Errorf("%v allocations per sparse backward", allocs)
	}
}

func TestExpSub(t *testing.T) {
	rng := newRNG(11)
	for n := 0; n < 40; n++ {
		x := randVec(rng, n, 5)
		if n > 3 {
			x[2] = float32(math.Inf(-1))
		}
		want := make([]float64, n)
		var ws float64
		for i, v := range x {
			want[i] = math.Exp(float64(v - 1.5)) // the float32 difference, as expSub computes it
			ws += want[i]
		}
		s := expSub(x, 1.5)
		for i, v := range x {
			if math.Abs(float64(v)-want[i]) > 3e-7*want[i]+1e-30 {
				t.Fatalf("n=%d: exp[%d] = %g, want %g", n, i, v, want[i])
			}
		}
		if math.Abs(s-ws) > 1e-6*ws {
			t.Fatalf("n=%d: sum %g, want %g", n, s, ws)
		}
	}
}

// Forward and backward through attention, layer norm and a linear layer reuse their buffers:
// no allocation once the state has grown to the batch.
func TestSteadyStateNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	rng := newRNG(12)
	d := 16
	a := NewMultiHeadAttention("att", d, 2, rng)
	ln := NewLayerNorm("ln", d)
	lin := NewLinear("lin", d, 32, rng)
	off := []int32{0, 7, 20, 21}
	T := 21
	x, y, h, st := randVec(rng, T*d, 1), make([]float32, T*d), make([]float32, T*d), make([]float32, 2*T)
	z, dz, dx := make([]float32, T*32), randVec(rng, T*32, 1), make([]float32, T*d)
	var ast AttentionState
	run := func() {
		a.Forward(x, off, y, &ast)
		ln.Forward(y, T, h, st)
		lin.Forward(h, T, z)
		lin.Backward(h, dz, T, dx)
		ln.Backward(y, dx, T, st, dx)
		a.Backward(x, dx, off, &ast, dx)
	}
	run()
	if n := testing.AllocsPerRun(50, run); n != 0 {
		t.Errorf("%v allocations per step", n)
	}
}
