//go:build !purego

package kernel

import "golang.org/x/sys/cpu"

// HaveAVX2FMA reports whether the assembly kernels can run: gonum's are SSE2 only, these do
// 8-wide fused multiply-adds. Tests switch it off to cover the portable code.
var HaveAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Kern6x16 sets C[0:6, 0:16] (or adds to it, unless overwrite) alpha·A·B for A(i,l) =
// a[i·ars + l·acs], B(l,j) = b[l·ldb + j], C(i,j) = c[i·ldc + j], l < k (strides in elements):
// the register-blocked micro-kernel of nn.Gemm and GramLower32.
//
//go:noescape
func Kern6x16(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool)

// dotRows32 sets y[r] = Σ_{l<kv} a[r·lda+l]·x[l] for r < n; kv is a positive multiple of 8.
//
//go:noescape
func dotRows32(n, kv int, a *float32, lda int, x, y *float32)

// axpyRows32 adds Σ_{r<n} x[r]·a[r·lda : r·lda+kv] to y[:kv]; kv is a positive multiple of 8.
//
//go:noescape
func axpyRows32(n, kv int, a *float32, lda int, x, y *float32)

// dots4Rows64 sets y[4r+c] = Σ_{l<kv} a[r·lda+l]·x[c·lda+l] for r < n, c < 4 (four rows of x);
// kv is a positive multiple of 4.
//
//go:noescape
func dots4Rows64(n, kv int, a *float64, lda int, x, y *float64)

// scaleRows32 sets y[r·lda+l] = x[r]·a[r·lda+l] for r < n, l < kv; kv is a positive multiple of 8.
//
//go:noescape
func scaleRows32(n, kv int, a *float32, lda int, x, y *float32)

// max32 returns the largest of x[0:n] (n > 0, no NaN).
//
//go:noescape
func max32(x *float32, n int) float32

// softmaxBack32 sets grad[j] = probs[j]·(grad[j]−dot)·scale for j < n (n > 0).
//
//go:noescape
func softmaxBack32(probs, grad *float32, n int, dot, scale float32)

// transpose8 sets dst[c·ldd + r] = src[r·lds + c] for r < 8·rb, c < 8·cb (rb, cb > 0).
//
//go:noescape
func transpose8(src *float32, lds int, dst *float32, ldd int, rb, cb int)

// normRow32 sets y[j] = (x[j]−m)·r·gain[j] + bias[j] for j < n (n > 0).
//
//go:noescape
func normRow32(y, x, gain, bias *float32, n int, m, r float32)

// axpy32 adds alpha·x[i] to y[i] for i < n (n > 0).
//
//go:noescape
func axpy32(alpha float32, x, y *float32, n int)

// HaveAVX512 reports whether Kern6x32 can run (AVX-512F, with the OS saving ZMM state).
var HaveAVX512 = HaveAVX2FMA && cpu.X86.HasAVX512F

// Kern6x32 is Kern6x16 for a 6×32 block of C, in AVX-512 registers; it stores the same bits as
// two Kern6x16 calls side by side.
//
//go:noescape
func Kern6x32(k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, overwrite bool)

// adam8 is Adam32's loop over n (a positive multiple of 8) elements; c = b1, 1−b1, b2, 1−b2,
// eps, lr.
//
//go:noescape
func adam8(w, grad, m, v *float32, n int, c [6]float32, decay float32)

// reluBack8 is ReLUBack32's loop over n (a positive multiple of 8) elements.
//
//go:noescape
func reluBack8(y, dy, dx *float32, n int)

// addRows8 is AddRows32's loop over the first cols (a positive multiple of 8) columns.
//
//go:noescape
func addRows8(y, a *float32, rows, cols, lda int)

// normBackProducts and normBackDx are NormBackRow32's element-wise passes over n (a positive
// multiple of 8) elements.
//
//go:noescape
func normBackProducts(x, dy, gain, gg, gb, dh, p *float32, n int, m, r float32)

//go:noescape
func normBackDx(x, dy, gain, dx *float32, n int, m, r, s1, s2 float32)
