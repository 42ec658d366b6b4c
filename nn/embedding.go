package nn

import "math/rand/v2"

// Embedding is a lookup table of Rows vectors of size Dim, usually with sparse gradients so that
// only the rows a batch uses are updated (lazily, see Adam).
type Embedding struct {
	Dim int
	T   *Param
}

// NewEmbedding returns a rows×dim table initialised with N(0, std²).
func NewEmbedding(name string, rows, dim int, sparse bool, std float64, rng *rand.Rand) *Embedding {
	e := &Embedding{Dim: dim, T: NewParam(name, rows, dim, sparse)}
	e.T.InitNormal(rng, std)
	return e
}

// Replica returns a table sharing e's weights with its own gradient.
func (e *Embedding) Replica() *Embedding { return &Embedding{Dim: e.Dim, T: e.T.Replica()} }

// Forward writes row ids[i] of the table to row i of y (stride ldy, at column offset 0 of the
// slice given). A negative id gives a zero row.
func (e *Embedding) Forward(ids []int32, y []float32, ldy int) {
	d := e.Dim
	for i, id := range ids {
		row := y[i*ldy : i*ldy+d]
		if id < 0 {
			clear(row)
			continue
		}
		copy(row, e.T.W[int(id)*d:int(id+1)*d])
	}
}

// Backward accumulates row i of dy (stride ldy) into the gradient of row ids[i].
func (e *Embedding) Backward(ids []int32, dy []float32, ldy int) {
	d := e.Dim
	for i, id := range ids {
		if id < 0 {
			continue
		}
		Axpy(1, dy[i*ldy:i*ldy+d], e.T.GradRow(int(id)))
	}
}

// MeanBagForward writes to row b of y (stride ldy) the mean of the rows ids[off[b]:off[b+1]]
// (an embedding bag, e.g. a multi-valued categorical attribute); an empty bag gives zeros.
func (e *Embedding) MeanBagForward(off []int32, ids []int32, y []float32, ldy int) {
	d := e.Dim
	for b := 0; b+1 < len(off); b++ {
		row := y[b*ldy : b*ldy+d]
		clear(row)
		bag := ids[off[b]:off[b+1]]
		if len(bag) == 0 {
			continue
		}
		w := 1 / float32(len(bag))
		for _, id := range bag {
			Axpy(w, e.T.W[int(id)*d:int(id+1)*d], row)
		}
	}
}

// MeanBagBackward is the backward pass of MeanBagForward.
func (e *Embedding) MeanBagBackward(off []int32, ids []int32, dy []float32, ldy int) {
	d := e.Dim
	for b := 0; b+1 < len(off); b++ {
		bag := ids[off[b]:off[b+1]]
		if len(bag) == 0 {
			continue
		}
		w := 1 / float32(len(bag))
		g := dy[b*ldy : b*ldy+d]
		for _, id := range bag {
			Axpy(w, g, e.T.GradRow(int(id)))
		}
	}
}
