// Package hist is the inner loop of the GBDT trainer's histogram construction: a leaf's
// gradients and hessians summed into the bins of four features in one pass over its rows.
//
// On amd64 one 128-bit addition updates a bin's (gradient, hessian) pair; elsewhere, under the
// purego tag or with UseAsm off, the same additions run as a plain loop. Every bin adds its
// rows in row order either way, so the sums have the same bits.
package hist

// Add4 adds (ordered[2i], ordered[2i+1]), the gradient and hessian of row rows[i], to the bin
// c_k[rows[i]] of histogram h_k (256 bins of (gradient, hessian) pairs) for k < 4, for i in
// order. ordered has 2·len(rows) elements; every row indexes all four columns.
func Add4(rows []int32, ordered []float64, c0, c1, c2, c3 []uint8, h0, h1, h2, h3 *[512]float64) {
	if len(rows) == 0 {
		return
	}
	_ = ordered[2*len(rows)-1]
	if UseAsm {
		n := len(c0)
		if len(c1) != n || len(c2) != n || len(c3) != n {
			panic("hist: columns of different lengths")
		}
		add4(len(rows), &rows[0], &ordered[0], &c0[0], &c1[0], &c2[0], &c3[0], h0, h1, h2, h3)
		return
	}
	add4Go(rows, ordered, c0, c1, c2, c3, h0, h1, h2, h3)
}

// add4Go is the portable loop and the tests' oracle.
func add4Go(rows []int32, ordered []float64, c0, c1, c2, c3 []uint8, h0, h1, h2, h3 *[512]float64) {
	for i, r := range rows {
		g, h := ordered[2*i], ordered[2*i+1]
		b0, b1, b2, b3 := 2*int(c0[r]), 2*int(c1[r]), 2*int(c2[r]), 2*int(c3[r])
		h0[b0] += g
		h0[b0+1] += h
		h1[b1] += g
		h1[b1+1] += h
		h2[b2] += g
		h2[b2+1] += h
		h3[b3] += g
		h3[b3+1] += h
	}
}
