package nn

import (
	"math"
	"math/rand/v2"

	"github.com/cascade-rec/cascade/internal/kernel"
)

// MultiHeadAttention is multi-head scaled dot-product self-attention over packed variable-length
// sequences: every position attends to every position of its own sequence and to nothing else
// (the padding mask in compact form, see the package doc). y = Out(concat_h softmax(Q_h K_hᵀ/√dh) V_h)
// with [Q K V] = QKV(x).
type MultiHeadAttention struct {
	Dim, Heads int
	QKV        *Linear // Dim → 3·Dim: the query, key and value projections side by side
	Out        *Linear // Dim → Dim
}

// NewMultiHeadAttention returns an attention layer; dim must be a multiple of heads.
func NewMultiHeadAttention(name string, dim, heads int, rng *rand.Rand) *MultiHeadAttention {
	if heads <= 0 || dim%heads != 0 {
		panic("nn: attention dim must be a positive multiple of heads")
	}
	return &MultiHeadAttention{
		Dim: dim, Heads: heads,
		QKV: NewLinear(name+".qkv", dim, 3*dim, rng),
		Out: NewLinear(name+".out", dim, dim, rng),
	}
}

// Params returns the layer's parameters.
func (a *MultiHeadAttention) Params() Params { return append(a.QKV.Params(), a.Out.Params()...) }

// Replica returns a layer sharing a's weights with its own gradients.
func (a *MultiHeadAttention) Replica() *MultiHeadAttention {
	return &MultiHeadAttention{Dim: a.Dim, Heads: a.Heads, QKV: a.QKV.Replica(), Out: a.Out.Replica()}
}

// AttentionState holds one worker's activations and scratch for a MultiHeadAttention; its
// buffers grow to the largest batch seen and are then reused.
type AttentionState struct {
	qkv, ctx, probs    []float32
	dqkv, dctx, dprobs []float32
	poff               []int
}

// head returns head hd's query, key and value columns from row lo on of a packed [Q K V]
// buffer (row stride 3·Dim): qkv, or its gradient.
func (a *MultiHeadAttention) head(buf []float32, lo, hd int) (q, k, v []float32) {
	d, dh := a.Dim, a.Dim/a.Heads
	at := lo*3*d + hd*dh
	return buf[at:], buf[at+d:], buf[at+2*d:]
}

// Forward computes y (T×Dim, T = off[len(off)-1]) from x for the sequences described by off.
func (a *MultiHeadAttention) Forward(x []float32, off []int32, y []float32, st *AttentionState) {
	d, h := a.Dim, a.Heads
	dh := d / h
	nseq := len(off) - 1
	T := int(off[nseq])
	st.qkv = kernel.Grow(st.qkv, T*3*d)
	st.ctx = kernel.Grow(st.ctx, T*d)
	if cap(st.poff) < nseq+1 {
		st.poff = make([]int, nseq+1)
	}
	st.poff = st.poff[:nseq+1]
	np := 0
	for b := 0; b < nseq; b++ {
		st.poff[b] = np
		n := int(off[b+1] - off[b])
		np += h * n * n
	}
	st.poff[nseq] = np
	st.probs = kernel.Grow(st.probs, np)

	a.QKV.Forward(x, T, st.qkv)
	scale := float32(1 / math.Sqrt(float64(dh)))
	ld := 3 * d
	for b := 0; b < nseq; b++ {
		lo, n := int(off[b]), int(off[b+1]-off[b])
		if n == 0 {
			continue
		}
		for hd := 0; hd < h; hd++ {
			q, k, v := a.head(st.qkv, lo, hd)
			p := st.probs[st.poff[b]+hd*n*n : st.poff[b]+(hd+1)*n*n]
			Gemm(false, true, n, n, dh, scale, q, ld, k, ld, 0, p, n)
			for i := 0; i < n; i++ {
				softmaxRow(p[i*n : (i+1)*n])
			}
			Gemm(false, false, n, dh, n, 1, p, n, v, ld, 0, st.ctx[lo*d+hd*dh:], d)
		}
	}
	a.Out.Forward(st.ctx, T, y)
}

// Backward accumulates the parameter gradients and sets dx (T×Dim) from dy, using the state of
// the matching Forward call on x.
func (a *MultiHeadAttention) Backward(x, dy []float32, off []int32, st *AttentionState, dx []float32) {
	d, h := a.Dim, a.Heads
	dh := d / h
	nseq := len(off) - 1
	T := int(off[nseq])
	st.dctx = kernel.Grow(st.dctx, T*d)
	st.dqkv = kernel.Grow(st.dqkv, T*3*d)
	a.Out.Backward(st.ctx, dy, T, st.dctx)
	scale := float32(1 / math.Sqrt(float64(dh)))
	ld := 3 * d
	for b := 0; b < nseq; b++ {
		lo, n := int(off[b]), int(off[b+1]-off[b])
		if n == 0 {
			continue
		}
		st.dprobs = kernel.Grow(st.dprobs, n*n)
		dp := st.dprobs
		for hd := 0; hd < h; hd++ {
			q, k, v := a.head(st.qkv, lo, hd)
			dq, dk, dv := a.head(st.dqkv, lo, hd)
			p := st.probs[st.poff[b]+hd*n*n : st.poff[b]+(hd+1)*n*n]
			dc := st.dctx[lo*d+hd*dh:]
			// dV = Pᵀ·dC; dP = dC·Vᵀ
			Gemm(true, false, n, dh, n, 1, p, n, dc, d, 0, dv, ld)
			Gemm(false, true, n, n, dh, 1, dc, d, v, ld, 0, dp, n)
			// Softmax backward, with the 1/√dh of the scores folded in.
			for i := 0; i < n; i++ {
				pr, gr := p[i*n:(i+1)*n], dp[i*n:(i+1)*n]
				kernel.SoftmaxBack32(pr, gr, Dot(pr, gr), scale)
			}
			// dQ = dS·K; dK = dSᵀ·Q
			Gemm(false, false, n, dh, n, 1, dp, n, k, ld, 0, dq, ld)
			Gemm(true, false, n, dh, n, 1, dp, n, q, ld, 0, dk, ld)
		}
	}
	a.QKV.Backward(x, st.dqkv, T, dx)
}

// softmaxRow replaces x by softmax(x); -Inf entries get probability 0. A row that is all -Inf
// becomes all zeros.
func softmaxRow(x []float32) {
	m := kernel.Max32(x)
	if math.IsInf(float64(m), -1) {
		clear(x)
		return
	}
	inv := [1]float32{float32(1 / expSub(x, m))}
	kernel.ScaleRows32(x, x, 1, len(x), inv[:])
}
