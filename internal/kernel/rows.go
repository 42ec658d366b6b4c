package kernel

// The float32 products of iALS's row solves (a row's gathered n×k factors against k-vectors, and
// the k×k sum of their weighted outer products). With AVX2 + FMA they run the assembly kernels;
// elsewhere, plain loops. Each sums in a fixed order, so results never depend on the number of
// workers (only on whether the assembly runs).

// asmCols is how many leading columns of an n×k product the assembly kernels take (k rounded down
// to a multiple of 8), or 0 when they cannot run; the callers' loops do the rest.
func asmCols(n, k int) int {
	if !HaveAVX2FMA || k < 8 || n == 0 {
		return 0
	}
	return k &^ 7
}

// MatVec32 sets y[r] = a[r·k : r·k+k]·x for r < n (a is row-major n×k).
func MatVec32(a []float32, n, k int, x, y []float32) {
	a, x, y = a[:n*k], x[:k], y[:n]
	kv := asmCols(n, k)
	if kv > 0 {
		dotRows32(n, kv, &a[0], k, &x[0], &y[0])
	} else {
		clear(y)
	}
	if kv == k {
		return
	}
	for r := range y {
		s := y[r]
		for l, v := range a[r*k+kv : r*k+k] {
			s += v * x[kv+l]
		}
		y[r] = s
	}
}

// MatTVecAdd32 adds aᵀ·t to y, where a is row-major n×k: y += Σ_r t[r]·a[r·k : r·k+k].
func MatTVecAdd32(a []float32, n, k int, t, y []float32) {
	a, t, y = a[:n*k], t[:n], y[:k]
	kv := asmCols(n, k)
	if kv > 0 {
		axpyRows32(n, kv, &a[0], k, &t[0], &y[0])
	}
	if kv == k {
		return
	}
	for r, tr := range t {
		for l, v := range a[r*k+kv : r*k+k] {
			y[kv+l] += tr * v
		}
	}
}

// ScaleRows32 sets dst[r·k : r·k+k] = w[r]·a[r·k : r·k+k] for r < n (a, dst row-major n×k).
func ScaleRows32(dst, a []float32, n, k int, w []float32) {
	dst, a, w = dst[:n*k], a[:n*k], w[:n]
	kv := asmCols(n, k)
	if kv > 0 {
		scaleRows32(n, kv, &a[0], k, &w[0], &dst[0])
	}
	if kv == k {
		return
	}
	for r, wr := range w {
		for l := kv; l < k; l++ {
			dst[r*k+l] = wr * a[r*k+l]
		}
	}
}

// AtBLower32 sets the lower triangle (diagonal included) of the row-major k×k matrix c to aᵀ·b,
// c(i,j) = Σ_{l<n} a[l·k+i]·b[l·k+j], for row-major n×k a and b with aᵀ·b symmetric (b = the rows
// of a unscaled, a = them scaled, in iALS). Entries above the diagonal get unspecified values.
//
// The assembly path covers the triangle with Kern6x16's 6×16 blocks (29 of the 44 at k = 64),
// or Kern6x32's 6×32 ones where AVX-512 runs, reading a and b in place; the last row and column blocks are shifted back to end at k, so they
// overlap their neighbours and recompute a few entries identically instead of needing padding.
func AtBLower32(c, a, b []float32, n, k int) {
	c, a, b = c[:k*k], a[:n*k], b[:n*k]
	if !HaveAVX2FMA || k < 16 || n == 0 {
		atbLowerLoops(c, a, b, n, k)
		return
	}
	w, kern := 16, Kern6x16
	if HaveAVX512 && k >= 32 {
		w, kern = 32, Kern6x32 // same bits, twice the columns per instruction
	}
	for i0 := 0; i0 < k; i0 += 6 {
		i0 = min(i0, k-6)
		for j0 := 0; j0 <= i0+5; j0 += w {
			j0 = min(j0, k-w)
			kern(n, &a[i0], 1, k, &b[j0], k, &c[i0*k+j0], k, 1, true)
			if j0 == k-w {
				break
			}
		}
		if i0 == k-6 {
			break
		}
	}
}

// atbLowerLoops is AtBLower32's portable path.
func atbLowerLoops(c, a, b []float32, n, k int) {
	for i := range k {
		clear(c[i*k : i*k+i+1])
	}
	for l := range n {
		br := b[l*k : l*k+k]
		for i, ai := range a[l*k : l*k+k] {
			row := c[i*k : i*k+i+1]
			for j := range row {
				row[j] += ai * br[j]
			}
		}
	}
}
