package nn

import "math"

// MeanPool writes to row b of y the mean of rows off[b]:off[b+1] of x (d columns); an empty
// sequence gives a zero row.
func MeanPool(x []float32, d int, off []int32, y []float32) {
	for b := 0; b+1 < len(off); b++ {
		row := y[b*d : (b+1)*d]
		clear(row)
		lo, hi := int(off[b]), int(off[b+1])
		if hi == lo {
			continue
		}
		w := 1 / float32(hi-lo)
		for t := lo; t < hi; t++ {
			Axpy(w, x[t*d:(t+1)*d], row)
		}
	}
}

// MeanPoolBackward sets dx for every packed row from the pooled gradient dy.
func MeanPoolBackward(dy []float32, d int, off []int32, dx []float32) {
	for b := 0; b+1 < len(off); b++ {
		lo, hi := int(off[b]), int(off[b+1])
		if hi == lo {
			continue
		}
		w := 1 / float32(hi-lo)
		g := dy[b*d : (b+1)*d]
		for t := lo; t < hi; t++ {
			r := dx[t*d : (t+1)*d]
			for j, v := range g {
				r[j] = w * v
			}
		}
	}
}

// normEps keeps the normalisation of a zero vector finite.
const normEps = 1e-12

// L2Normalize scales each of the n rows of x to unit length into y and stores the row norms in
// norms for the backward pass. y may alias x.
func L2Normalize(x []float32, n, d int, y, norms []float32) {
	for i := 0; i < n; i++ {
		xr := x[i*d : (i+1)*d]
		var s float64
		for _, v := range xr {
			s += float64(v) * float64(v)
		}
		nr := float32(math.Sqrt(s + normEps))
		norms[i] = nr
		inv := 1 / nr
		yr := y[i*d : (i+1)*d]
		for j, v := range xr {
			yr[j] = v * inv
		}
	}
}

// L2NormalizeBackward sets dx = (dy − y·(y·dy)) / ‖x‖ from the forward output y. dx may alias dy.
func L2NormalizeBackward(y, dy []float32, n, d int, norms, dx []float32) {
	for i := 0; i < n; i++ {
		yr, dyr, dxr := y[i*d:(i+1)*d], dy[i*d:(i+1)*d], dx[i*d:(i+1)*d]
		p := Dot(yr, dyr)
		inv := 1 / norms[i]
		for j := range yr {
			dxr[j] = (dyr[j] - yr[j]*p) * inv
		}
	}
}
