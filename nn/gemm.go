package nn

import (
	"fmt"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/cascade-rec/cascade/internal/kernel"
)

var impl gonum.Implementation

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where op(A) is m×k and
// op(B) is k×n, on the calling goroutine only and without allocating in steady state. Callers
// parallelise over the batch themselves.
//
// On amd64 with AVX2 and FMA it runs a 6×16 register-blocked micro-kernel, and 6×32 where the CPU
// has AVX-512 (about twice the FLOP/s, the same bits), with k blocked by 256 so that the panel of
// B stays in L2; op(B)ᵀ is packed first; ragged edges go through zero-padded copies, or, when C
// is overwritten in one k panel, through full blocks shifted back to overlap. Elsewhere it calls
// gonum's serial SSE2 code in tiles small enough that gonum never spawns its per-block
// goroutines, which allocate and, on these shapes, are slower than one thread
// (shared/notes/dependencies.md §3).
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	useKernel := haveKernel && !(transA && transB) && k > 0 && alpha != 0 && m*n*k >= 2048
	if useKernel && beta == 0 {
		kernelGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc, true)
		return
	}
	if beta != 1 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
			} else {
				for j := range row {
					row[j] *= beta
				}
			}
		}
	}
	if k == 0 || alpha == 0 {
		return
	}
	if useKernel {
		kernelGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc, false)
		return
	}
	gonumGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, c, ldc)
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	switch {
	case m < 0 || n < 0 || k < 0:
		panic(fmt.Sprintf("nn: gemm with negative size %d×%d×%d", m, n, k))
	case lda < max(1, ac) || ldb < max(1, bc) || ldc < max(1, n):
		panic(fmt.Sprintf("nn: gemm leading dimension too small (lda %d, ldb %d, ldc %d for %d×%d×%d)", lda, ldb, ldc, m, n, k))
	case ar > 0 && ac > 0 && len(a) < (ar-1)*lda+ac,
		br > 0 && bc > 0 && len(b) < (br-1)*ldb+bc,
		len(c) < (m-1)*ldc+n:
		panic(fmt.Sprintf("nn: gemm operand too short for %d×%d×%d", m, n, k))
	}
}

const (
	kernMR   = 6   // rows of the micro-kernel's C block (it is 16 columns wide)
	gemmRows = 64  // gonum path: C tiles below gonum's 4-block parallel threshold
	gemmCols = 192 //
	gemmKC   = 256 // kernel path: k panel
	gemmMC   = 96  // kernel path: rows of A per group (a multiple of kernMR)
)

func gonumGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	for i0 := 0; i0 < m; i0 += gemmRows {
		mi := min(gemmRows, m-i0)
		var ai []float32
		if transA {
			ai = a[i0:] // columns i0.. of the k×m matrix A
		} else {
			ai = a[i0*lda:]
		}
		for j0 := 0; j0 < n; j0 += gemmCols {
			nj := min(gemmCols, n-j0)
			var bj []float32
			if transB {
				bj = b[j0*ldb:]
			} else {
				bj = b[j0:]
			}
			impl.Sgemm(tA, tB, mi, nj, k, alpha, ai, lda, bj, ldb, 1, c[i0*ldc+j0:], ldc)
		}
	}
}

// gemmBuf is the kernel path's packing scratch.
type gemmBuf struct{ bt, ap, bp, ct []float32 }

var gemmPool = sync.Pool{New: func() any { return new(gemmBuf) }}

// kernelGemm adds alpha·op(A)·op(B) to C, or stores it when overwrite is set (beta = 0: C is
// neither cleared nor read).
func kernelGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, overwrite bool) {
	g := gemmPool.Get().(*gemmBuf)
	defer gemmPool.Put(g)
	if transB {
		// Pack op(B) = Bᵀ (k×n) so that the kernel reads 16 consecutive columns.
		g.bt = kernel.Grow(g.bt, k*n)
		kernel.Transpose32(g.bt, n, b, ldb, n, k)
		b, ldb = g.bt, n
	}
	ars, acs := lda, 1 // A(i,l) = a[i·ars + l·acs]
	if transA {
		ars, acs = 1, lda
	}
	// When C is stored in one k panel, the ragged last row block and column strip are instead
	// full blocks shifted back to end at m and n: they overlap their neighbours and store the
	// same bits there again (every entry is its own chain of multiply-adds in k order), which is
	// cheaper than padding copies of A and B and a bounce through ct. Attention's per-head
	// products (m = n = the sequence length) are all of this kind.
	overlap := overwrite && k <= gemmKC
	// Columns [0, wide) go through the 32-wide AVX-512 kernel, [wide, nFull) through 16-wide
	// strips, and [nFull, n) through a zero-padded 16-wide strip. Both kernels store the same bits
	// for an entry, so the split is free to vary with the machine.
	wide := 0
	if haveWide {
		wide = n &^ 31
		if overlap && n > 32 && wide < n {
			wide = n
		}
	}
	nFull := max(wide, n&^15)
	if overlap && n > 16 && nFull < n {
		nFull = n
	}
	strips := [...]struct {
		lo, hi, w int
		kern      func(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool)
	}{{0, wide, 32, kernel.Kern6x32}, {wide, nFull, 16, kernel.Kern6x16}}
	g.ct = kernel.Grow(g.ct, kernMR*32)
	for k0 := 0; k0 < k; k0 += gemmKC {
		kk := min(gemmKC, k-k0)
		set := overwrite && k0 == 0
		if nFull < n {
			// The last, narrower strip of B, zero-padded to 16 columns.
			g.bp = kernel.Grow(g.bp, kk*16)
			for l := 0; l < kk; l++ {
				row := g.bp[l*16 : l*16+16]
				off := (k0+l)*ldb + nFull
				clear(row[copy(row, b[off:off+n-nFull]):])
			}
		}
		// The row blocks go in groups of gemmMC rows; within a group each strip of B runs down
		// every block, so that the strip stays in L1 while the group's rows of A stay in L2.
		for ic := 0; ic < m; ic += gemmMC {
			icEnd := min(ic+gemmMC, m)
			last := icEnd - (icEnd-ic)%kernMR // where the group's partial block starts, if any
			if last < icEnd && !(overlap && m > kernMR) {
				// The last rows of A, zero-padded to a full block.
				g.ap = kernel.Grow(g.ap, kernMR*kk)
				clear(g.ap)
				for r := 0; r < icEnd-last; r++ {
					for l := 0; l < kk; l++ {
						g.ap[r*kk+l] = a[(last+r)*ars+(k0+l)*acs]
					}
				}
			}
			for _, st := range strips {
				for j0 := st.lo; j0 < st.hi; j0 += st.w {
					j0 = min(j0, st.hi-st.w) // the shifted last strip when overlapping
					bp := &b[k0*ldb+j0]
					for i0 := ic; i0 < icEnd; i0 += kernMR {
						i0, mi, ap, pars, pacs := g.rowBlock(i0, m, icEnd, last, overlap, a, ars, acs, k0, kk)
						if mi == kernMR {
							st.kern(kk, ap, pars, pacs, bp, ldb, &c[i0*ldc+j0], ldc, alpha, set)
							continue
						}
						st.kern(kk, ap, pars, pacs, bp, ldb, &g.ct[0], st.w, alpha, true)
						putBlock(c[i0*ldc+j0:], ldc, g.ct, st.w, mi, st.w, set)
					}
				}
			}
			if nFull < n {
				for i0 := ic; i0 < icEnd; i0 += kernMR {
					i0, mi, ap, pars, pacs := g.rowBlock(i0, m, icEnd, last, overlap, a, ars, acs, k0, kk)
					kernel.Kern6x16(kk, ap, pars, pacs, &g.bp[0], 16, &g.ct[0], 16, alpha, true)
					putBlock(c[i0*ldc+nFull:], ldc, g.ct, 16, mi, n-nFull, set)
				}
			}
		}
	}
}

// rowBlock returns the kernMR-row block of A that starts at i0 (k panel k0, kk wide): a full
// block read in place; the partial last block (from last to end) shifted back to end at m when
// overlapping, else the zero-padded copy in g.ap.
func (g *gemmBuf) rowBlock(i0, m, end, last int, overlap bool, a []float32, ars, acs, k0, kk int) (int, int, *float32, int, int) {
	mi := min(kernMR, end-i0)
	if mi == kernMR {
		return i0, mi, &a[i0*ars+k0*acs], ars, acs
	}
	if overlap && m > kernMR {
		i0 = m - kernMR
		return i0, kernMR, &a[i0*ars+k0*acs], ars, acs
	}
	return last, mi, &g.ap[0], kk, 1
}

// putBlock adds (or, with set, copies) the top-left rows×cols of the block t (row stride ldt)
// to c.
func putBlock(c []float32, ldc int, t []float32, ldt, rows, cols int, set bool) {
	for r := 0; r < rows; r++ {
		row := c[r*ldc : r*ldc+cols]
		if set {
			copy(row, t[r*ldt:])
			continue
		}
		for j := range row {
			row[j] += t[r*ldt+j]
		}
	}
}

// Dot returns x·y.
func Dot(x, y []float32) float32 {
	return impl.Sdot(len(x), x, 1, y[:len(x)], 1)
}

// Axpy computes y += alpha·x (nothing when alpha is 0, as in BLAS). With AVX2 it runs
// kernel.Axpy32, which rounds as gonum's SSE code does, twice as wide.
func Axpy(alpha float32, x, y []float32) {
	if haveKernel && alpha != 0 {
		kernel.Axpy32(alpha, x, y)
		return
	}
	impl.Saxpy(len(x), alpha, x, 1, y[:len(x)], 1)
}
