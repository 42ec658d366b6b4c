package kernel

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// blasImpl is gonum's stateless BLAS, called directly to skip the blas64 wrappers' checks.
var blasImpl gonum.Implementation

// gramBlock is the number of rows widened to float64 at a time for the Gramian.
const gramBlock = 256

// Gram sets dst (k×k, both triangles) to FᵀF for the row-major n×k float32 matrix f, in float64.
// Blocks of rows are summed in a fixed order, so the result is reproducible and never depends on
// the number of workers.
func Gram(f []float32, k int, dst []float64) {
	clear(dst)
	n := len(f) / k
	buf := make([]float64, min(n, gramBlock)*k)
	for lo := 0; lo < n; lo += gramBlock {
		rows := min(gramBlock, n-lo)
		b := buf[:rows*k]
		for j, v := range f[lo*k : (lo+rows)*k] {
			b[j] = float64(v)
		}
		blasImpl.Dsyrk(blas.Upper, blas.Trans, k, rows, 1, b, k, 1, dst, k)
	}
	for i := 0; i < k; i++ {
		for j := i + 1; j < k; j++ {
			dst[j*k+i] = dst[i*k+j]
		}
	}
}

// Cholesky factors the symmetric positive definite n×n matrix whose lower triangle is in a
// (row-major) into L·Lᵀ, overwriting the lower triangle with L. It reports false when a is not
// numerically positive definite.
//
// It is left-looking in blocks of four columns: a block's update from the columns left of it is
// four inner products per row below, which the AVX2 kernel computes reading each row once; then
// the four columns are finished in scalar code. With the solve it takes about a third of the 27 µs
// of the scalar column-by-column version at k = 64 (which already beat lapack64.Potrf + Potrs).
func Cholesky(a []float64, n int) bool {
	var upd [4 * cholRows]float64
	for j := 0; j < n; j += 4 {
		nb := min(4, n-j)
		if j > 0 {
			for i0 := j; i0 < n; i0 += cholRows {
				rows := min(cholRows, n-i0)
				blockDots(a, n, i0, rows, j, nb, upd[:4*rows])
				for r := range rows {
					i := i0 + r
					for c := range min(nb, i-j+1) {
						a[i*n+j+c] -= upd[4*r+c]
					}
				}
			}
		}
		// The diagonal block, column by column.
		var inv [4]float64
		for c := range nb {
			jj := j + c
			rj := a[jj*n+j : jj*n+jj]
			d := a[jj*n+jj]
			for _, v := range rj {
				d -= v * v
			}
			if !(d > 0) || math.IsInf(d, 0) {
				return false
			}
			d = math.Sqrt(d)
			a[jj*n+jj] = d
			inv[c] = 1 / d
			for i := jj + 1; i < j+nb; i++ {
				s := a[i*n+jj]
				for c2, v := range rj {
					s -= a[i*n+j+c2] * v
				}
				a[i*n+jj] = s * inv[c]
			}
		}
		if j+nb == n {
			break
		}
		// The rows below it (nb = 4 here): x·L_bbᵀ = a[i, j:j+4], with L_bb in registers.
		l10 := a[(j+1)*n+j]
		l20, l21 := a[(j+2)*n+j], a[(j+2)*n+j+1]
		l30, l31, l32 := a[(j+3)*n+j], a[(j+3)*n+j+1], a[(j+3)*n+j+2]
		for i := j + 4; i < n; i++ {
			row := a[i*n+j : i*n+j+4]
			x0 := row[0] * inv[0]
			x1 := (row[1] - x0*l10) * inv[1]
			x2 := (row[2] - x0*l20 - x1*l21) * inv[2]
			x3 := (row[3] - x0*l30 - x1*l31 - x2*l32) * inv[3]
			row[0], row[1], row[2], row[3] = x0, x1, x2, x3
		}
	}
	return true
}

// cholRows is the number of rows whose block products Cholesky takes at a time (a stack buffer).
const cholRows = 64

// blockDots sets upd[4r+c] = L[i0+r, :j]·L[j+c, :j] for r < rows, c < nb (j a multiple of 4).
func blockDots(a []float64, n, i0, rows, j, nb int, upd []float64) {
	if HaveAVX2FMA && nb == 4 {
		dots4Rows64(rows, j, &a[i0*n], n, &a[j*n], &upd[0])
		return
	}
	for r := range rows {
		ri := a[(i0+r)*n : (i0+r)*n+j]
		for c := range nb {
			upd[4*r+c] = Dot64(ri, a[(j+c)*n:(j+c)*n+j])
		}
	}
}

// CholSolve solves L·Lᵀ·x = b in place given Cholesky's factor in a.
func CholSolve(a []float64, n int, b []float64) {
	for i := 0; i < n; i++ {
		b[i] = (b[i] - Dot64(a[i*n:i*n+i], b[:i])) / a[i*n+i]
	}
	// Lᵀ·x = z, column by column so that L is read along its rows.
	for i := n - 1; i >= 0; i-- {
		b[i] /= a[i*n+i]
		xi := b[i]
		for p, l := range a[i*n : i*n+i] {
			b[p] -= l * xi
		}
	}
}

// Dot64x32 is the float64 inner product of p and q[:len(p)], one accumulator in index order: the
// synthetic world's affinity, whose bits every world file depends on.
func Dot64x32(p []float64, q []float32) float64 {
	var s float64
	for k, x := range q[:len(p)] {
		s += p[k] * float64(x)
	}
	return s
}

// Dot64 is a float64 inner product of x and y[:len(x)] with four accumulators (a fixed order, so
// reproducible).
func Dot64(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
