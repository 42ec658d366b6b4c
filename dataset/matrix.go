package dataset

import "sort"

// Matrix is a sparse matrix in compressed-row form: row r's column indices are
// Indices[Indptr[r]:Indptr[r+1]] (ascending) with the matching Values.
type Matrix struct {
	Rows, Cols int
	Indptr     []int
	Indices    []int32
	Values     []float32
}

// NNZ is the number of stored entries.
func (m *Matrix) NNZ() int { return len(m.Indices) }

// Row returns the column indices and values of row r.
func (m *Matrix) Row(r int) ([]int32, []float32) {
	lo, hi := m.Indptr[r], m.Indptr[r+1]
	return m.Indices[lo:hi], m.Values[lo:hi]
}

// Aggregate says how repeated (user, item) events combine into one matrix entry.
type Aggregate int

const (
	// Count sums 1 per event: the interaction count r of implicit feedback.
	Count Aggregate = iota
	// LastValue keeps the value of the latest event (explicit ratings: the user's current opinion).
	LastValue
)

// UserItemMatrix builds the rows×cols user×item matrix of events. Events with a user ≥ rows or an
// item ≥ cols are left out: a model's matrix covers only the users and items it was trained on.
func UserItemMatrix(events []Event, rows, cols int, agg Aggregate) *Matrix {
	return userItemMatrix(events, rows, cols, agg, nil)
}

// WeightedCounts is UserItemMatrix with Count where each event adds its type's weight instead of
// 1 (iALS's r with event types); nil weights give exactly the Count matrix.
func WeightedCounts(events []Event, rows, cols int, w TypeWeights) *Matrix {
	return userItemMatrix(events, rows, cols, Count, w)
}

func userItemMatrix(events []Event, rows, cols int, agg Aggregate, w TypeWeights) *Matrix {
	type cell struct {
		r, c int32
		v    float32
		ord  int
	}
	cells := make([]cell, 0, len(events))
	for i, e := range events {
		if int(e.User) >= rows || int(e.Item) >= cols || e.User < 0 || e.Item < 0 {
			continue
		}
		v := w.Of(e.Type)
		if agg == LastValue {
			v = e.Value
		}
		cells = append(cells, cell{e.User, e.Item, v, i})
	}
	sort.Slice(cells, func(a, b int) bool {
		if cells[a].r != cells[b].r {
			return cells[a].r < cells[b].r
		}
		if cells[a].c != cells[b].c {
			return cells[a].c < cells[b].c
		}
		return cells[a].ord < cells[b].ord
	})
	m := &Matrix{Rows: rows, Cols: cols, Indptr: make([]int, rows+1)}
	m.Indices = make([]int32, 0, len(cells))
	m.Values = make([]float32, 0, len(cells))
	for i, c := range cells {
		if i > 0 && cells[i-1].r == c.r && cells[i-1].c == c.c {
			last := len(m.Values) - 1
			if agg == Count {
				m.Values[last] += c.v
			} else {
				m.Values[last] = c.v
			}
			continue
		}
		m.Indices = append(m.Indices, c.c)
		m.Values = append(m.Values, c.v)
		m.Indptr[c.r+1]++
	}
	for r := 0; r < rows; r++ {
		m.Indptr[r+1] += m.Indptr[r]
	}
	return m
}

// Transpose returns the cols×rows matrix (e.g. item×user from user×item).
func (m *Matrix) Transpose() *Matrix {
	t := &Matrix{Rows: m.Cols, Cols: m.Rows, Indptr: make([]int, m.Cols+1),
		Indices: make([]int32, len(m.Indices)), Values: make([]float32, len(m.Values))}
	for _, c := range m.Indices {
		t.Indptr[c+1]++
	}
	for i := 0; i < m.Cols; i++ {
		t.Indptr[i+1] += t.Indptr[i]
	}
	next := append([]int(nil), t.Indptr[:m.Cols]...)
	for r := 0; r < m.Rows; r++ {
		for p := m.Indptr[r]; p < m.Indptr[r+1]; p++ {
			c := m.Indices[p]
			q := next[c]
			t.Indices[q] = int32(r)
			t.Values[q] = m.Values[p]
			next[c]++
		}
	}
	return t
}
