package twotower

import (
	"math"
	"math/rand/v2"

	"github.com/cascade-rec/cascade/internal/kernel"
	"github.com/cascade-rec/cascade/nn"
)

// arch is everything that fixes the shape of the network.
type arch struct {
	dim, histLen, heads, userBuckets, attrDim, ctxDim int
	hidden                                            []int
	numItems                                          int
	catCards                                          []int
	numNumeric                                        int
}

func (a *arch) queryIn() int {
	n := a.dim + 2*a.ctxDim
	if a.userBuckets > 0 {
		n += a.dim
	}
	return n
}

func (a *arch) itemIn() int { return a.dim + len(a.catCards)*a.attrDim + 2*a.numNumeric }

// net holds the parameters of both towers. The item-ID table is shared: it embeds the history
// items of the query tower and the candidate items of the item tower.
type net struct {
	a     arch
	item  *nn.Embedding // numItems × dim
	pos   *nn.Embedding // histLen × dim, position 0 = the most recent history item
	user  *nn.Embedding // userBuckets × dim, nil without user embedding
	hour  *nn.Embedding // 24 × ctxDim, nil without context
	dow   *nn.Embedding // 7 × ctxDim
	attn  *nn.MultiHeadAttention
	ln    *nn.LayerNorm
	qMLP  []*nn.Linear
	attrs []*nn.Embedding // one per categorical item attribute
	iMLP  []*nn.Linear
	ps    nn.Params
}

func newNet(a arch, rng *rand.Rand) *net {
	std := 1 / math.Sqrt(float64(a.dim))
	n := &net{a: a}
	n.item = nn.NewEmbedding("item", a.numItems, a.dim, true, std, rng)
	n.pos = nn.NewEmbedding("pos", a.histLen, a.dim, false, std, rng)
	if a.userBuckets > 0 {
		n.user = nn.NewEmbedding("user", a.userBuckets, a.dim, true, std, rng)
	}
	if a.ctxDim > 0 {
		n.hour = nn.NewEmbedding("hour", 24, a.ctxDim, false, std, rng)
		n.dow = nn.NewEmbedding("dow", 7, a.ctxDim, false, std, rng)
	}
	n.attn = nn.NewMultiHeadAttention("attn", a.dim, a.heads, rng)
	n.ln = nn.NewLayerNorm("ln", a.dim)
	n.qMLP = newMLP("query", a.queryIn(), a.hidden, a.dim, rng)
	for i, c := range a.catCards {
		n.attrs = append(n.attrs, nn.NewEmbedding("attr"+itoa(i), c, a.attrDim, true, 1/math.Sqrt(float64(a.attrDim)), rng))
	}
	n.iMLP = newMLP("itemmlp", a.itemIn(), a.hidden, a.dim, rng)
	n.collect()
	return n
}

func newMLP(name string, in int, hidden []int, out int, rng *rand.Rand) []*nn.Linear {
	var ls []*nn.Linear
	for i, h := range hidden {
		ls = append(ls, nn.NewLinear(name+itoa(i), in, h, rng))
		in = h
	}
	return append(ls, nn.NewLinear(name+itoa(len(hidden)), in, out, rng))
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// collect lists the parameters in a fixed order (the order of the model file).
func (n *net) collect() {
	ps := nn.Params{n.item.T, n.pos.T}
	if n.user != nil {
		ps = append(ps, n.user.T)
	}
	if n.hour != nil {
		ps = append(ps, n.hour.T, n.dow.T)
	}
	ps = append(ps, n.attn.Params()...)
	ps = append(ps, n.ln.Params()...)
	for _, l := range n.qMLP {
		ps = append(ps, l.Params()...)
	}
	for _, e := range n.attrs {
		ps = append(ps, e.T)
	}
	for _, l := range n.iMLP {
		ps = append(ps, l.Params()...)
	}
	n.ps = ps
}

// replica returns a network sharing n's weights with its own gradients, for one worker.
func (n *net) replica() *net {
	r := &net{a: n.a, item: n.item.Replica(), pos: n.pos.Replica(), attn: n.attn.Replica(), ln: n.ln.Replica()}
	if n.user != nil {
		r.user = n.user.Replica()
	}
	if n.hour != nil {
		r.hour, r.dow = n.hour.Replica(), n.dow.Replica()
	}
	for _, l := range n.qMLP {
		r.qMLP = append(r.qMLP, l.Replica())
	}
	for _, e := range n.attrs {
		r.attrs = append(r.attrs, e.Replica())
	}
	for _, l := range n.iMLP {
		r.iMLP = append(r.iMLP, l.Replica())
	}
	r.collect()
	return r
}

// ws is one worker's (or one request's) activations and gradient scratch. Buffers grow to the
// largest shard seen and are reused, so steady-state steps and requests do not allocate.
type ws struct {
	// Query inputs, filled by addQuery: packed history, positions, per-row offsets.
	hIDs, hPos, hOff   []int32
	users, hours, dows []int32

	x0, att, h1, lnSt []float32
	ast               nn.AttentionState
	pooled, z0        []float32
	qHead             head

	// Item inputs.
	iIDs  []int32
	i0    []float32
	iHead head

	// Backward scratch.
	dPl     []float32
	dh1, dr []float32
	dx0     []float32
}

// head is a tower's output stage, an MLP whose output is L2-normalised, with its activations
// and gradient scratch.
type head struct {
	act, dact [][]float32 // layer outputs and their gradients
	norm      []float32   // per-row norms of the last output
	dx        []float32   // gradient of the head's input
}

// forward runs mlp on x (rows × in) and writes the normalised output (rows × d) to out.
func (h *head) forward(mlp []*nn.Linear, x []float32, rows, d int, out []float32) {
	h.act = growLayers(h.act, mlp, rows)
	mlpForward(mlp, x, rows, h.act)
	h.norm = kernel.Grow(h.norm, rows)
	nn.L2Normalize(h.act[len(h.act)-1], rows, d, out, h.norm)
}

// backward back-propagates dOut, the gradient of the normalised output out of the matching
// forward on x, and returns the gradient of x (rows × in).
func (h *head) backward(mlp []*nn.Linear, x []float32, rows, in, d int, out, dOut []float32) []float32 {
	h.dact = growLayers(h.dact, mlp, rows)
	nn.L2NormalizeBackward(out, dOut, rows, d, h.norm, h.dact[len(h.dact)-1])
	h.dx = kernel.Grow(h.dx, rows*in)
	mlpBackward(mlp, x, rows, h.act, h.dact, h.dx)
	return h.dx
}

func growLayers(s [][]float32, layers []*nn.Linear, rows int) [][]float32 {
	if len(s) != len(layers) {
		s = make([][]float32, len(layers))
	}
	for i, l := range layers {
		s[i] = kernel.Grow(s[i], rows*l.Out)
	}
	return s
}

// resetQueries starts a new batch of queries.
func (w *ws) resetQueries() {
	w.hIDs, w.hPos = w.hIDs[:0], w.hPos[:0]
	w.hOff = append(w.hOff[:0], 0)
	w.users, w.hours, w.dows = w.users[:0], w.hours[:0], w.dows[:0]
}

// addQuery appends one query: the last histLen items of hist that are in the catalog (oldest
// first), the user's bucket and the request time.
func (w *ws) addQuery(a *arch, hist []int32, user int32, t int64) {
	// Walk back from the most recent item so that unknown IDs do not use up the window.
	n := 0
	start := len(w.hIDs)
	for i := len(hist) - 1; i >= 0 && n < a.histLen; i-- {
		if it := hist[i]; it >= 0 && int(it) < a.numItems {
			w.hIDs = append(w.hIDs, it)
			n++
		}
	}
	// Reverse into oldest-first order; position = distance from the most recent item.
	ids := w.hIDs[start:]
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	for i := range ids {
		w.hPos = append(w.hPos, int32(len(ids)-1-i))
	}
	w.hOff = append(w.hOff, int32(len(w.hIDs)))
	w.users = append(w.users, userBucket(user, a.userBuckets))
	w.hours = append(w.hours, hourOfDay(t))
	w.dows = append(w.dows, dayOfWeek(t))
}

// queryForward runs the query tower on the queries added since resetQueries and writes their
// L2-normalised embeddings to out (rows × dim).
func (n *net) queryForward(w *ws, out []float32) {
	a := &n.a
	d := a.dim
	rows := len(w.hOff) - 1
	T := len(w.hIDs)
	w.x0 = kernel.Grow(w.x0, T*d)
	w.att = kernel.Grow(w.att, T*d)
	w.h1 = kernel.Grow(w.h1, T*d)
	w.lnSt = kernel.Grow(w.lnSt, 2*T)
	n.item.Forward(w.hIDs, w.x0, d)
	for t, p := range w.hPos {
		nn.Axpy(1, n.pos.T.Row(int(p)), w.x0[t*d:(t+1)*d])
	}
	n.attn.Forward(w.x0, w.hOff, w.att, &w.ast)
	nn.Axpy(1, w.x0, w.att) // residual
	n.ln.Forward(w.att, T, w.h1, w.lnSt)

	qin := a.queryIn()
	w.pooled = kernel.Grow(w.pooled, rows*d)
	w.z0 = kernel.Grow(w.z0, rows*qin)
	nn.MeanPool(w.h1, d, w.hOff, w.pooled)
	for b := 0; b < rows; b++ {
		copy(w.z0[b*qin:b*qin+d], w.pooled[b*d:(b+1)*d])
	}
	n.queryEmbeddings(w, func(e *nn.Embedding, ids []int32, col int) { e.Forward(ids, w.z0[col:], qin) })
	w.qHead.forward(n.qMLP, w.z0, rows, d, out)
}

// queryEmbeddings calls fn for each optional embedding of the query tower's input, with the
// batch's IDs for it and its first column: the user's after the pooled history, then the hour's
// and the day of week's.
func (n *net) queryEmbeddings(w *ws, fn func(e *nn.Embedding, ids []int32, col int)) {
	col := n.a.dim
	if n.user != nil {
		fn(n.user, w.users, col)
		col += n.a.dim
	}
	if n.hour != nil {
		fn(n.hour, w.hours, col)
		fn(n.dow, w.dows, col+n.a.ctxDim)
	}
}

// queryBackward accumulates the parameter gradients of the query tower from dOut, the gradient
// of the loss with respect to the normalised embeddings out of the matching queryForward.
func (n *net) queryBackward(w *ws, out, dOut []float32) {
	a := &n.a
	d := a.dim
	rows := len(w.hOff) - 1
	T := len(w.hIDs)
	qin := a.queryIn()
	dz0 := w.qHead.backward(n.qMLP, w.z0, rows, qin, d, out, dOut)
	n.queryEmbeddings(w, func(e *nn.Embedding, ids []int32, col int) { e.Backward(ids, dz0[col:], qin) })
	w.dPl = kernel.Grow(w.dPl, rows*d)
	for b := 0; b < rows; b++ {
		copy(w.dPl[b*d:(b+1)*d], dz0[b*qin:b*qin+d])
	}
	w.dh1 = kernel.Grow(w.dh1, T*d)
	w.dr = kernel.Grow(w.dr, T*d)
	w.dx0 = kernel.Grow(w.dx0, T*d)
	nn.MeanPoolBackward(w.dPl, d, w.hOff, w.dh1)
	n.ln.Backward(w.att, w.dh1, T, w.lnSt, w.dr)
	n.attn.Backward(w.x0, w.dr, w.hOff, &w.ast, w.dx0)
	nn.Axpy(1, w.dr, w.dx0) // residual
	n.item.Backward(w.hIDs, w.dx0, d)
	n.pos.Backward(w.hPos, w.dx0, d)
}

// itemForward runs the item tower on rows of f (feature rows rows) and writes their normalised
// embeddings to out. idRows holds each row's item-ID embedding row: the item itself, or -1 for
// the zero "unknown" row (ID dropout in training, an item added after training at serve time).
func (n *net) itemForward(w *ws, f *itemFeatures, rows, idRows []int32, out []float32) {
	a := &n.a
	d := a.dim
	in := a.itemIn()
	w.i0 = kernel.Grow(w.i0, len(rows)*in)
	n.item.Forward(idRows, w.i0, in)
	col := n.attrBags(f, func(e *nn.Embedding, cf *catFeature, col int) {
		for r, id := range rows {
			e.MeanBagForward(cf.off[id:id+2], cf.ids, w.i0[r*in+col:], in)
		}
	})
	if k := 2 * a.numNumeric; k > 0 {
		for r, id := range rows {
			copy(w.i0[r*in+col:r*in+col+k], f.numeric[int(id)*k:int(id+1)*k])
		}
	}
	w.iHead.forward(n.iMLP, w.i0, len(rows), d, out)
}

// itemBackward is the backward pass of itemForward.
func (n *net) itemBackward(w *ws, f *itemFeatures, rows, idRows []int32, out, dOut []float32) {
	a := &n.a
	d := a.dim
	in := a.itemIn()
	di0 := w.iHead.backward(n.iMLP, w.i0, len(rows), in, d, out, dOut)
	n.item.Backward(idRows, di0, in)
	n.attrBags(f, func(e *nn.Embedding, cf *catFeature, col int) {
		for r, id := range rows {
			e.MeanBagBackward(cf.off[id:id+2], cf.ids, di0[r*in+col:], in)
		}
	})
}

// attrBags calls fn for each categorical attribute's embedding bag, with the attribute's values
// and its first column in the item tower's input (after the item ID's), and returns the column
// after the last bag, where the numeric attributes start.
func (n *net) attrBags(f *itemFeatures, fn func(e *nn.Embedding, cf *catFeature, col int)) int {
	col := n.a.dim
	for c, e := range n.attrs {
		fn(e, &f.cats[c], col)
		col += n.a.attrDim
	}
	return col
}

// mlpForward runs Linear(+ReLU except after the last layer) layers; act[i] is layer i's output.
func mlpForward(ls []*nn.Linear, x []float32, rows int, act [][]float32) {
	in := x
	for i, l := range ls {
		l.Forward(in, rows, act[i])
		if i < len(ls)-1 {
			nn.ReLU(act[i], act[i])
		}
		in = act[i]
	}
}

// mlpBackward back-propagates from grad[len-1] (the gradient of the last layer's output) down to
// dx; grad[i] is used as scratch for the gradient of layer i's output.
func mlpBackward(ls []*nn.Linear, x []float32, rows int, act, grad [][]float32, dx []float32) {
	for i := len(ls) - 1; i >= 0; i-- {
		if i < len(ls)-1 {
			nn.ReLUBackward(act[i], grad[i], grad[i])
		}
		in, din := x, dx
		if i > 0 {
			in, din = act[i-1], grad[i-1]
		}
		ls[i].Backward(in, grad[i], rows, din)
	}
}
