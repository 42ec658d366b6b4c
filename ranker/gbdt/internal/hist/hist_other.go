//go:build !amd64 || purego

package hist

// UseAsm is false: the portable loop runs.
var UseAsm = false

func add4(n int, rows *int32, ordered *float64, c0, c1, c2, c3 *uint8, h0, h1, h2, h3 *[512]float64) {
	panic("hist: no assembly loop on this platform")
}
