//go:build !purego

package lambdapairs

import "golang.org/x/sys/cpu"

// UseAVX2 reports whether Run takes the assembly kernel (AVX2 for the gathers). Tests switch it
// off to cover the portable loop.
var UseAVX2 = cpu.X86.HasAVX2

// pairsAVX2 is Run's kernel for m > 0 lanes, m a multiple of 4.
//
//go:noescape
func pairsAVX2(r *Row, m int, lab, sc, gain, disc *float64, lam, hes *float32)
