//go:build !purego

package lambdapairs

import "github.com/cascade-rec/cascade/internal/kernel"

// UseAVX2 reports whether Run takes the assembly kernel (AVX2 and FMA: the kernel repeats
// math.Exp's FMA path, which math takes when the machine has FMA). Tests switch it off to cover
// the portable loop.
var UseAVX2 = kernel.HaveAVX2FMA

// pairsAVX2 is Run's kernel for m > 0 lanes, m a multiple of 4.
//
//go:noescape
func pairsAVX2(r *Row, m int, lab, sc, gain, disc *float64, lam, hes *float32)

// probsAVX2 sets r.pbuf[j] to the sigmoid table's entry for document i's difference with
// document j, j < m (m > 0, a multiple of 4), using r.pbuf[m:2m] as scratch.
//
//go:noescape
func probsAVX2(r *Row, m int, lab, sc *float64)
