package attention

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/nn"
)

// Attention kinds, as stored in net.kind.
const (
	kindDIN = iota
	kindDot
	kindMean
)

func kindOf(name string) int {
	switch name {
	case AttentionDot:
		return kindDot
	case AttentionMean:
		return kindMean
	}
	return kindDIN
}

// blockRows is how many candidates the DIN unit scores per GEMM when serving: a block of
// pre-activations (blockRows × L·A floats) then stays in L2 between the GEMM and the ReLU pass.
// A multiple of the GEMM micro-kernel's 6 (and 4) rows avoids padded edge blocks.
const blockRows = 24

// featureClip bounds a standardised feature, so that one absurd value at serving time cannot
// swamp the MLP.
const featureClip = 10

// net holds the weights (or a replica's view of them, with its own gradients) and the forward and
// backward passes of one request.
//
// Layout. att1 stacks the four d×A blocks of the activation unit's first layer, which acts on
// [h, c, h−c, h⊙c]: rows [0,d) W_h, [d,2d) W_c, [2d,3d) W_d, [3d,4d) W_p. Since
// W_h·h + W_c·c + W_d·(h−c) = (W_h+W_d)·h + (W_c−W_d)·c, only the W_p·(h⊙c) term needs a pair;
// forward folds everything into one GEMM per block of candidates:
//
//	pre[c, j·A+a] = Σ_{k<d} C[c,k]·G[k, j·A+a] + 1·G[d, j·A+a]
//	G[k, j·A+a]   = H[j,k]·W_p[k,a] + (W_c−W_d)[k,a]     (k < d)
//	G[d, j·A+a]   = ((W_h+W_d)ᵀ·h_j + b1)[a]
//
// with C carrying a constant 1 in column d. G costs O(L·A·d) per request, the GEMM n·L·A·(d+1).
type net struct {
	kind     int
	softmax  bool
	d, a, nf int
	histLen  int
	numItems int
	frozen   bool // item embeddings get no gradient

	emb   *nn.Embedding
	att1  *nn.Param // 4d × A
	attB1 *nn.Param // 1 × A
	att2  *nn.Param // 1 × A: the activation unit's output weights
	attB2 *nn.Param // 1 × 1
	wq    *nn.Param // d × d (dot)
	pos   *nn.Param // 1 × histLen: recency bias of the attention logits, [0] for the most recent
	mlp   []*nn.Linear

	// Feature standardisation: z = (x − mean)/std, NaN → 0, clipped to ±featureClip.
	mean, std []float32
}

func newNet(p Params, numItems, nf int, rng *rand.Rand) *net {
	d, a := p.Dim, p.AttentionHidden
	n := &net{
		kind: kindOf(p.Attention), softmax: p.Softmax, d: d, a: a, nf: nf, histLen: p.HistoryLen,
		numItems: numItems, frozen: p.FreezeItems,
		emb:  nn.NewEmbedding("item", numItems, d, true, p.EmbeddingStd, rng),
		mean: make([]float32, nf), std: make([]float32, nf),
	}
	for j := range n.std {
		n.std[j] = 1
	}
	switch n.kind {
	case kindDIN:
		n.att1 = nn.NewParam("att.w1", 4*d, a, false)
		n.att1.InitUniform(rng, math.Sqrt(6/float64(4*d+a)))
		n.attB1 = nn.NewParam("att.b1", 1, a, false)
		n.att2 = nn.NewParam("att.w2", 1, a, false)
		n.att2.InitUniform(rng, math.Sqrt(6/float64(a+1)))
		n.attB2 = nn.NewParam("att.b2", 1, 1, false)
	case kindDot:
		// Start from plain similarity attention, h·c/√d.
		n.wq = nn.NewParam("att.wq", d, d, false)
		for k := range d {
			n.wq.W[k*d+k] = 1
		}
	}
	if p.Recency && n.kind != kindMean {
		n.pos = nn.NewParam("att.pos", 1, p.HistoryLen, false)
	}
	in := 3*d + nf
	for i, h := range p.Hidden {
		n.mlp = append(n.mlp, nn.NewLinear(fmt.Sprintf("mlp%d", i), in, h, rng))
		in = h
	}
	n.mlp = append(n.mlp, nn.NewLinear("out", in, 1, rng))
	return n
}

// params lists the trainable parameters in a fixed order (the item table first).
func (n *net) params() nn.Params {
	ps := nn.Params{n.emb.T}
	switch n.kind {
	case kindDIN:
		ps = append(ps, n.att1, n.attB1, n.att2, n.attB2)
	case kindDot:
		ps = append(ps, n.wq)
	}
	if n.pos != nil {
		ps = append(ps, n.pos)
	}
	for _, l := range n.mlp {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// replica returns a net sharing n's weights with its own gradients.
func (n *net) replica() *net {
	r := *n
	r.emb = n.emb.Replica()
	rep := func(p *nn.Param) *nn.Param {
		if p == nil {
			return nil
		}
		return p.Replica()
	}
	r.att1, r.attB1, r.att2, r.attB2, r.wq, r.pos = rep(n.att1), rep(n.attB1), rep(n.att2), rep(n.attB2), rep(n.wq), rep(n.pos)
	r.mlp = make([]*nn.Linear, len(n.mlp))
	for i, l := range n.mlp {
		r.mlp[i] = l.Replica()
	}
	return &r
}

// work holds one request's activations and gradients; buffers only grow, so a worker (or a
// pooled serving scratch) stops allocating once it has seen its largest request.
type work struct {
	n, l int // candidates, history rows used

	hist []int32   // the history rows' item IDs
	cand []int32   // candidate item IDs, −1 for an unknown item
	h    []float32 // l × d
	cx   []float32 // n × (d+1): candidate embeddings and a constant 1
	g    []float32 // (d+1) × l·A (DIN)
	whd  []float32 // d × A: W_h + W_d
	wcd  []float32 // d × A: W_c − W_d
	u    []float32 // DIN pre-activations: n × l·A when training, blockRows × l·A when serving
	s    []float32 // n × l attention logits
	wt   []float32 // n × l attention weights
	q    []float32 // n × d: C·W_q (dot)
	p    []float32 // n × d pooled history
	x    []float32 // n × (3d+F): MLP input
	y    [][]float32

	// Backward.
	dy  [][]float32
	dx  []float32
	dp  []float32
	dc  []float32
	dh  []float32
	dwt []float32
	ds  []float32
	dq  []float32
	dg  []float32
	dcx []float32
	tmp []float32
}

// forward computes the logits of cands for history (the last histLen known items are read) and
// dense (n × nf raw features). With train set it keeps every activation backward needs.
// The returned slice belongs to w.
func (nt *net) forward(w *work, history, cands []int32, dense []float32, train bool) []float32 {
	nt.embed(w, history, cands)
	nt.attend(w, train)
	nt.input(w, dense)
	return nt.mlpForward(w)
}

// embed gathers the history rows (the most recent histLen items the table knows) into w.h and the
// candidates' rows (zero for an unknown item) into w.cx.
func (nt *net) embed(w *work, history, cands []int32) {
	d := nt.d
	n := len(cands)
	w.n = n
	w.hist = w.hist[:0]
	for k := len(history) - 1; k >= 0 && len(w.hist) < nt.histLen; k-- {
		if it := history[k]; it >= 0 && int(it) < nt.numItems {
			w.hist = append(w.hist, it)
		}
	}
	for i, j := 0, len(w.hist)-1; i < j; i, j = i+1, j-1 {
		w.hist[i], w.hist[j] = w.hist[j], w.hist[i]
	}
	l := len(w.hist)
	w.l = l
	w.h = kernel.Grow(w.h, l*d)
	nt.emb.Forward(w.hist, w.h, d)

	dc := d + 1
	w.cand = kernel.Grow(w.cand, n)
	w.cx = kernel.Grow(w.cx, n*dc)
	for i, it := range cands {
		row := w.cx[i*dc : i*dc+d]
		if it >= 0 && int(it) < nt.numItems {
			copy(row, nt.emb.T.W[int(it)*d:int(it+1)*d])
			w.cand[i] = it
		} else {
			clear(row)
			w.cand[i] = -1
		}
		w.cx[i*dc+d] = 1
	}
}

// attend computes the attention weights w.wt and the pooled history w.p of every candidate.
func (nt *net) attend(w *work, train bool) {
	d, n, l := nt.d, w.n, w.l
	dc := d + 1
	w.p = kernel.Grow(w.p, n*d)
	if l == 0 {
		clear(w.p)
		return
	}
	w.s = kernel.Grow(w.s, n*l)
	w.wt = kernel.Grow(w.wt, n*l)
	switch nt.kind {
	case kindDIN:
		nt.dinForward(w, train)
		nt.addRecency(w)
		if nt.softmax {
			softmaxRows(w.s, w.wt, n, l)
		} else {
			copy(w.wt, w.s)
		}
	case kindDot:
		w.q = kernel.Grow(w.q, n*d)
		nn.Gemm(false, false, n, d, d, 1, w.cx, dc, nt.wq.W, d, 0, w.q, d)
		nn.Gemm(false, true, n, l, d, float32(1/math.Sqrt(float64(d))), w.q, d, w.h, d, 0, w.s, l)
		nt.addRecency(w)
		softmaxRows(w.s, w.wt, n, l)
	case kindMean:
		inv := 1 / float32(l)
		for i := range w.wt {
			w.wt[i] = inv
		}
	}
	nn.Gemm(false, false, n, d, l, 1, w.wt, l, w.h, d, 0, w.p, d)
}

// addRecency adds the recency bias to the attention logits: history row j of l is l−1−j items
// back from the most recent.
func (nt *net) addRecency(w *work) {
	if nt.pos == nil {
		return
	}
	l := w.l
	pos := nt.pos.W
	for i := range w.n {
		row := w.s[i*l : (i+1)*l]
		for j := range row {
			row[j] += pos[l-1-j]
		}
	}
}

// recencyBackward accumulates the recency bias's gradient from w.ds.
func (nt *net) recencyBackward(w *work) {
	if nt.pos == nil {
		return
	}
	l := w.l
	g := nt.pos.G
	for i := range w.n {
		for j, v := range w.ds[i*l : (i+1)*l] {
			g[l-1-j] += v
		}
	}
}

// input assembles the MLP input rows [p, c, p⊙c, z].
func (nt *net) input(w *work, dense []float32) {
	d, n := nt.d, w.n
	dc := d + 1
	width := 3*d + nt.nf
	w.x = kernel.Grow(w.x, n*width)
	for i := range n {
		x := w.x[i*width : (i+1)*width]
		p, c := w.p[i*d:(i+1)*d], w.cx[i*dc:i*dc+d]
		copy(x[:d], p)
		copy(x[d:2*d], c)
		pc := x[2*d : 3*d]
		for k := range pc {
			pc[k] = p[k] * c[k]
		}
		nt.standardise(dense[i*nt.nf:(i+1)*nt.nf], x[3*d:])
	}
}

// mlpForward runs the output MLP on w.x and returns the logits.
func (nt *net) mlpForward(w *work) []float32 {
	n := w.n
	if len(w.y) != len(nt.mlp) {
		w.y = make([][]float32, len(nt.mlp))
		w.dy = make([][]float32, len(nt.mlp))
	}
	in := w.x
	for k, layer := range nt.mlp {
		w.y[k] = kernel.Grow(w.y[k], n*layer.Out)
		layer.Forward(in, n, w.y[k])
		if k < len(nt.mlp)-1 {
			nn.ReLU(w.y[k], w.y[k])
		}
		in = w.y[k]
	}
	return w.y[len(w.y)-1]
}

func (nt *net) standardise(raw, z []float32) {
	for f, v := range raw {
		s := (v - nt.mean[f]) / nt.std[f]
		switch {
		case s != s:
			s = 0
		case s > featureClip:
			s = featureClip
		case s < -featureClip:
			s = -featureClip
		}
		z[f] = s
	}
}

// dinForward fills w.s with the activation unit's output for every (candidate, history) pair.
func (nt *net) dinForward(w *work, train bool) {
	d, A, n, l := nt.d, nt.a, w.n, w.l
	dc, la := d+1, l*A
	W := nt.att1.W
	w.whd = kernel.Grow(w.whd, d*A)
	w.wcd = kernel.Grow(w.wcd, d*A)
	for k := range d * A {
		w.whd[k] = W[k] + W[2*d*A+k]
		w.wcd[k] = W[d*A+k] - W[2*d*A+k]
	}
	w.g = kernel.Grow(w.g, dc*la)
	wp := W[3*d*A:]
	for k := range d {
		row := w.g[k*la : (k+1)*la]
		wpk, wck := wp[k*A:(k+1)*A], w.wcd[k*A:(k+1)*A]
		for j := range l {
			hjk := w.h[j*d+k]
			seg := row[j*A : (j+1)*A]
			for a, v := range wpk {
				seg[a] = hjk*v + wck[a]
			}
		}
	}
	last := w.g[d*la : dc*la] // l × A, row-major: exactly (W_h+W_d)ᵀ·h_j per j
	nn.Gemm(false, false, l, A, d, 1, w.h, d, w.whd, A, 0, last, A)
	b1 := nt.attB1.W
	for j := range l {
		nn.Axpy(1, b1, last[j*A:(j+1)*A])
	}

	if train {
		w.u = kernel.Grow(w.u, n*la)
	} else {
		w.u = kernel.Grow(w.u, min(n, blockRows)*la)
	}
	w2, b2 := nt.att2.W, nt.attB2.W[0]
	for c0 := 0; c0 < n; c0 += blockRows {
		nb := min(blockRows, n-c0)
		u := w.u
		if train {
			u = w.u[c0*la:]
		}
		nn.Gemm(false, false, nb, la, dc, 1, w.cx[c0*dc:], dc, w.g, la, 0, u, la)
		reluDot(u[:nb*la], w2, b2, w.s[c0*l:(c0+nb)*l], A)
	}
}

// reluDot sets out[r] = b + w·ReLU(z[r·A:(r+1)·A]) for each row, leaving z as it is: with
// AVX2 eight lanes at a time (A a multiple of 8), else in Go.
func reluDot(z, w []float32, b float32, out []float32, A int) {
	if len(out) == 0 {
		return
	}
	_ = z[len(out)*A-1]
	if haveAVX2 && A%8 == 0 {
		reluDotAVX2(&z[0], len(out), A, &w[0], b, &out[0])
		return
	}
	reluDotGo(z, w, b, out, A)
}

// reluDotGo is reluDot in Go. The builtin max compiles to branch-free code: with half the
// pre-activations negative, a branch would be mispredicted every other element.
func reluDotGo(z, w []float32, b float32, out []float32, A int) {
	w = w[:A]
	for r := range out {
		seg := z[r*A : (r+1)*A : (r+1)*A]
		var s0, s1 float32
		a := 0
		for ; a+1 < A; a += 2 {
			s0 += max(seg[a], 0) * w[a]
			s1 += max(seg[a+1], 0) * w[a+1]
		}
		if a < A {
			s0 += max(seg[a], 0) * w[a]
		}
		out[r] = b + s0 + s1
	}
}

// softmaxRows writes the row-wise softmax of s (n × l) to y.
func softmaxRows(s, y []float32, n, l int) {
	for i := range n {
		row, out := s[i*l:(i+1)*l], y[i*l:(i+1)*l]
		m := row[0]
		for _, v := range row[1:] {
			m = max(m, v)
		}
		var sum float32
		for j, v := range row {
			e := kernel.Exp32Neg(v - m)
			out[j] = e
			sum += e
		}
		inv := 1 / sum
		for j := range out {
			out[j] *= inv
		}
	}
}

// backward accumulates into nt's gradients the gradient of Σ dlogit[i]·logit[i] for the request
// of the last forward(train = true) call on w.
func (nt *net) backward(w *work, dlogit []float32) {
	nt.mlpBackward(w, dlogit)
	nt.inputBackward(w)
	nt.poolBackward(w)
	nt.scatter(w)
}

// mlpBackward sets w.dx, the gradient of the MLP input, from dlogit.
func (nt *net) mlpBackward(w *work, dlogit []float32) {
	n := w.n
	dy := dlogit[:n]
	for k := len(nt.mlp) - 1; k >= 0; k-- {
		layer := nt.mlp[k]
		in := w.x
		if k > 0 {
			in = w.y[k-1]
		}
		var dx []float32
		if k > 0 {
			w.dy[k-1] = kernel.Grow(w.dy[k-1], n*layer.In)
			dx = w.dy[k-1]
		} else {
			w.dx = kernel.Grow(w.dx, n*layer.In)
			dx = w.dx
		}
		layer.Backward(in, dy, n, dx)
		if k > 0 {
			nn.ReLUBackward(w.y[k-1], dx, dx)
		}
		dy = dx
	}
}

// inputBackward splits w.dx into the gradients of the pooled history (w.dp) and of the
// candidate embeddings (w.dc); the dense features have none.
func (nt *net) inputBackward(w *work) {
	d, n := nt.d, w.n
	dc := d + 1
	width := 3*d + nt.nf
	w.dp = kernel.Grow(w.dp, n*d)
	w.dc = kernel.Grow(w.dc, n*d)
	for i := range n {
		x := w.dx[i*width : (i+1)*width]
		p, c := w.p[i*d:(i+1)*d], w.cx[i*dc:i*dc+d]
		dp, dcr := w.dp[i*d:(i+1)*d], w.dc[i*d:(i+1)*d]
		for k := range d {
			g := x[2*d+k]
			dp[k] = x[k] + g*c[k]
			dcr[k] = x[d+k] + g*p[k]
		}
	}
}

// poolBackward propagates w.dp through the pooling and the attention weights: it sets w.dh,
// adds to w.dc and accumulates the attention parameters' gradients.
func (nt *net) poolBackward(w *work) {
	d, n, l := nt.d, w.n, w.l
	dc := d + 1
	w.dh = kernel.Grow(w.dh, l*d)
	clear(w.dh)
	if l == 0 {
		return
	}
	w.dwt = kernel.Grow(w.dwt, n*l)
	nn.Gemm(false, true, n, l, d, 1, w.dp, d, w.h, d, 0, w.dwt, l)
	nn.Gemm(true, false, l, d, n, 1, w.wt, l, w.dp, d, 1, w.dh, d)
	switch nt.kind {
	case kindDIN:
		w.ds = kernel.Grow(w.ds, n*l)
		if nt.softmax {
			softmaxBackward(w.wt, w.dwt, w.ds, n, l)
		} else {
			copy(w.ds, w.dwt)
		}
		nt.recencyBackward(w)
		nt.dinBackward(w)
	case kindDot:
		w.ds = kernel.Grow(w.ds, n*l)
		softmaxBackward(w.wt, w.dwt, w.ds, n, l)
		nt.recencyBackward(w)
		scale := float32(1 / math.Sqrt(float64(d)))
		w.dq = kernel.Grow(w.dq, n*d)
		nn.Gemm(false, false, n, d, l, scale, w.ds, l, w.h, d, 0, w.dq, d)
		nn.Gemm(true, false, l, d, n, scale, w.ds, l, w.q, d, 1, w.dh, d)
		nn.Gemm(true, false, d, d, n, 1, w.cx, dc, w.dq, d, 1, nt.wq.G, d)
		nn.Gemm(false, true, n, d, d, 1, w.dq, d, nt.wq.W, d, 1, w.dc, d)
	}
}

// scatter adds w.dh and w.dc to the gradients of the item rows they came from.
func (nt *net) scatter(w *work) {
	if nt.frozen {
		return
	}
	d := nt.d
	for j, it := range w.hist {
		nn.Axpy(1, w.dh[j*d:(j+1)*d], nt.emb.T.GradRow(int(it)))
	}
	for i, it := range w.cand[:w.n] {
		if it >= 0 {
			nn.Axpy(1, w.dc[i*d:(i+1)*d], nt.emb.T.GradRow(int(it)))
		}
	}
}

// softmaxBackward sets ds = y ⊙ (dy − Σ_j y_j·dy_j) row by row, for y the softmax output.
func softmaxBackward(y, dy, ds []float32, n, l int) {
	for i := range n {
		yr, dyr, out := y[i*l:(i+1)*l], dy[i*l:(i+1)*l], ds[i*l:(i+1)*l]
		dot := nn.Dot(yr, dyr)
		for j, v := range yr {
			out[j] = v * (dyr[j] - dot)
		}
	}
}

// dinBackward propagates w.ds (the gradient of the activation unit's outputs) to the unit's
// weights, w.dh and w.dc.
func (nt *net) dinBackward(w *work) {
	d, A, n, l := nt.d, nt.a, w.n, w.l
	dc, la := d+1, l*A
	w2 := nt.att2.W
	gw2, gb2 := nt.att2.G, nt.attB2.G
	// u (the pre-activations) becomes their gradient, in place.
	for r := range n * l {
		g := w.ds[r]
		if g == 0 {
			clear(w.u[r*A : (r+1)*A])
			continue
		}
		gb2[0] += g
		seg := w.u[r*A : (r+1)*A]
		for a, v := range seg {
			if v > 0 {
				gw2[a] += g * v
				seg[a] = g * w2[a]
			} else {
				seg[a] = 0
			}
		}
	}
	dpre := w.u[:n*la]
	// Through pre = [C 1]·G.
	w.dcx = kernel.Grow(w.dcx, n*dc)
	nn.Gemm(false, true, n, dc, la, 1, dpre, la, w.g, la, 0, w.dcx, dc)
	for i := range n {
		nn.Axpy(1, w.dcx[i*dc:i*dc+d], w.dc[i*d:(i+1)*d])
	}
	w.dg = kernel.Grow(w.dg, dc*la)
	nn.Gemm(true, false, dc, la, n, 1, w.cx, dc, dpre, la, 0, w.dg, la)

	W, G := nt.att1.W, nt.att1.G
	wp := W[3*d*A:]
	gWc, gWd, gWp := G[d*A:2*d*A], G[2*d*A:3*d*A], G[3*d*A:]
	for k := range d {
		row := w.dg[k*la : (k+1)*la]
		wpk := wp[k*A : (k+1)*A]
		gp, gc, gd := gWp[k*A:(k+1)*A], gWc[k*A:(k+1)*A], gWd[k*A:(k+1)*A]
		for j := range l {
			seg := row[j*A : (j+1)*A]
			hjk := w.h[j*d+k]
			var dh float32
			for a, g := range seg {
				gp[a] += g * hjk
				gc[a] += g
				gd[a] -= g
				dh += g * wpk[a]
			}
			w.dh[j*d+k] += dh
		}
	}
	// Row d: the history-only term (W_h+W_d)ᵀ·h_j + b1.
	dhp := w.dg[d*la : dc*la] // l × A
	gb1 := nt.attB1.G
	for j := range l {
		nn.Axpy(1, dhp[j*A:(j+1)*A], gb1)
	}
	w.tmp = kernel.Grow(w.tmp, d*A)
	nn.Gemm(true, false, d, A, l, 1, w.h, d, dhp, A, 0, w.tmp, A)
	nn.Axpy(1, w.tmp, G[:d*A])
	nn.Axpy(1, w.tmp, gWd)
	nn.Gemm(false, true, l, d, A, 1, dhp, A, w.whd, A, 1, w.dh, d)
}
