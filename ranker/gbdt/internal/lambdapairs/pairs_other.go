//go:build !amd64 || purego

package lambdapairs

// UseAVX2 is false: the portable loop runs.
var UseAVX2 = false

func pairsAVX2(r *Row, m int, lab, sc, gain, disc *float64, lam, hes *float32) {
	panic("lambdapairs: no assembly kernel on this platform")
}

func probsAVX2(r *Row, m int, lab, sc *float64) {
	panic("lambdapairs: no assembly kernel on this platform")
}
