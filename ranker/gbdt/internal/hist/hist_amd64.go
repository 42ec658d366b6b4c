//go:build !purego

package hist

// UseAsm reports whether Add4 runs the assembly loop (SSE2, which every amd64 has). Tests
// switch it off to cover the portable loop.
var UseAsm = true

// add4 is Add4's loop for n > 0 rows; the caller checks the lengths.
//
//go:noescape
func add4(n int, rows *int32, ordered *float64, c0, c1, c2, c3 *uint8, h0, h1, h2, h3 *[512]float64)
