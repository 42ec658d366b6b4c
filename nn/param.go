package nn

import (
	"math"
	"math/rand/v2"
)

// Param is a trainable Rows×Cols float32 tensor with its gradient. A dense parameter keeps a
// full gradient G; a sparse one (an embedding table) records only the rows a batch touched, so
// clearing and applying its gradient costs O(touched rows), not O(table).
type Param struct {
	Name       string
	Rows, Cols int
	W          []float32 // values, row-major
	G          []float32 // dense gradient; nil for a sparse parameter
	sp         *sparseGrad
}

// sparseGrad accumulates the gradient rows of a sparse parameter in order of first touch.
type sparseGrad struct {
	slot    []int32 // row → index into rows, or -1
	rows    []int32 // touched rows, in order of first touch
	vals    []float32
	colsize int
}

// NewParam returns a zero Rows×Cols parameter; sparse selects row-sparse gradients.
func NewParam(name string, rows, cols int, sparse bool) *Param {
	p := &Param{Name: name, Rows: rows, Cols: cols, W: make([]float32, rows*cols)}
	p.initGrad(sparse)
	return p
}

func (p *Param) initGrad(sparse bool) {
	if !sparse {
		p.G = make([]float32, len(p.W))
		return
	}
	s := &sparseGrad{slot: make([]int32, p.Rows), colsize: p.Cols}
	for i := range s.slot {
		s.slot[i] = -1
	}
	p.sp = s
}

// Sparse reports whether the parameter has row-sparse gradients.
func (p *Param) Sparse() bool { return p.sp != nil }

// Replica returns a parameter sharing p's weights with its own zero gradient, for a worker that
// runs part of a batch. Weights must not change while replicas are computing.
func (p *Param) Replica() *Param {
	q := &Param{Name: p.Name, Rows: p.Rows, Cols: p.Cols, W: p.W}
	q.initGrad(p.Sparse())
	return q
}

// Row returns row r of the weights.
func (p *Param) Row(r int) []float32 { return p.W[r*p.Cols : (r+1)*p.Cols] }

// GradRow returns the gradient of row r to accumulate into; for a sparse parameter the row is
// created (zeroed) on first use.
func (p *Param) GradRow(r int) []float32 {
	if p.sp == nil {
		return p.G[r*p.Cols : (r+1)*p.Cols]
	}
	s := p.sp
	i := s.slot[r]
	if i < 0 {
		i = int32(len(s.rows))
		s.slot[r] = i
		s.rows = append(s.rows, int32(r))
		n := len(s.vals)
		if cap(s.vals) >= n+s.colsize {
			s.vals = s.vals[:n+s.colsize]
			clear(s.vals[n:])
		} else {
			s.vals = append(s.vals, make([]float32, s.colsize)...)
		}
	}
	return s.vals[int(i)*s.colsize : (int(i)+1)*s.colsize]
}

// TouchedRows returns the rows holding a gradient of a sparse parameter, in order of first touch
// (nil for a dense one). The slice is valid until the next ZeroGrad.
func (p *Param) TouchedRows() []int32 {
	if p.sp == nil {
		return nil
	}
	return p.sp.rows
}

// ZeroGrad clears the gradient.
func (p *Param) ZeroGrad() {
	if p.sp == nil {
		clear(p.G)
		return
	}
	s := p.sp
	for _, r := range s.rows {
		s.slot[r] = -1
	}
	s.rows = s.rows[:0]
	s.vals = s.vals[:0]
}

// AddGrad adds q's gradient to p's (q is usually a replica of p). Sparse rows are merged in q's
// order of first touch, so a fixed sequence of AddGrad calls gives bit-identical results.
func (p *Param) AddGrad(q *Param) {
	if q.sp == nil {
		if p.sp != nil {
			for r := 0; r < q.Rows; r++ {
				g := q.G[r*q.Cols : (r+1)*q.Cols]
				if !allZero(g) {
					Axpy(1, g, p.GradRow(r))
				}
			}
			return
		}
		Axpy(1, q.G, p.G)
		return
	}
	s := q.sp
	for i, r := range s.rows {
		Axpy(1, s.vals[i*s.colsize:(i+1)*s.colsize], p.GradRow(int(r)))
	}
}

// AddGradRange adds rows [lo, hi) of a dense q's gradient to p's dense gradient, so that a
// reduction can be split across goroutines.
func (p *Param) AddGradRange(q *Param, lo, hi int) {
	Axpy(1, q.G[lo*q.Cols:hi*q.Cols], p.G[lo*p.Cols:hi*p.Cols])
}

func allZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

// InitNormal fills the weights with N(0, std²) draws.
func (p *Param) InitNormal(rng *rand.Rand, std float64) {
	for i := range p.W {
		p.W[i] = float32(rng.NormFloat64() * std)
	}
}

// InitUniform fills the weights with U(-a, a) draws.
func (p *Param) InitUniform(rng *rand.Rand, a float64) {
	for i := range p.W {
		p.W[i] = float32((2*rng.Float64() - 1) * a)
	}
}

// Fill sets every weight to v.
func (p *Param) Fill(v float32) {
	for i := range p.W {
		p.W[i] = v
	}
}

// Params is a model's parameter list.
type Params []*Param

// Replica returns replicas of every parameter, in the same order.
func (ps Params) Replica() Params {
	out := make(Params, len(ps))
	for i, p := range ps {
		out[i] = p.Replica()
	}
	return out
}

// ZeroGrad clears every gradient.
func (ps Params) ZeroGrad() {
	for _, p := range ps {
		p.ZeroGrad()
	}
}

// Count is the total number of weights.
func (ps Params) Count() int {
	n := 0
	for _, p := range ps {
		n += len(p.W)
	}
	return n
}

// GradNorm returns the L2 norm of all gradients (for monitoring and clipping).
func (ps Params) GradNorm() float64 {
	var s float64
	for _, p := range ps {
		var g []float32
		if p.sp != nil {
			g = p.sp.vals
		} else {
			g = p.G
		}
		for _, v := range g {
			s += float64(v) * float64(v)
		}
	}
	return math.Sqrt(s)
}

// ScaleGrad multiplies every gradient by a.
func (ps Params) ScaleGrad(a float32) {
	for _, p := range ps {
		g := p.G
		if p.sp != nil {
			g = p.sp.vals
		}
		for i := range g {
			g[i] *= a
		}
	}
}
