package kernel

// NormRow32 sets y[j] = (x[j]−m)·r·g[j] + b[j] for j < len(x): a layer-norm row from its mean m,
// reciprocal standard deviation r, gain g and bias b. The assembly does the same three roundings
// (no fused multiply-add) eight at a time, so the bits are those of the loop.
func NormRow32(y, x, g, b []float32, m, r float32) {
	n := len(x)
	y, g, b = y[:n], g[:n], b[:n]
	if HaveAVX2FMA && n > 0 {
		normRow32(&y[0], &x[0], &g[0], &b[0], n, m, r)
		return
	}
	for j, v := range x {
		y[j] = (v-m)*r*g[j] + b[j]
	}
}

// NormBack32 is a layer norm's backward pass over n rows of width d, given the rows' inputs x,
// output gradients dy, means and reciprocal standard deviations (stats[2i], stats[2i+1]) and the
// gain g: for each row it adds dy·x̂ to the gain gradient gg and dy to the bias gradient gb
// (x̂ = (x−m)·r, row after row), and sets
//
//	dx = r·(dy·g − mean(dy·g) − x̂·mean(dy·g·x̂))
//
// (dx may alias dy). The two means are sums in index order, one rounding per addition, as the
// loop does. The assembly computes each row's element-wise products eight at a time into
// scratch; the sums then run over two rows at once (four independent chains of additions, each
// in its row's order), and the same roundings give the same bits.
func NormBack32(x, dy, g, gg, gb, dx, stats []float32, n, d int) {
	g, gg, gb = g[:d], gg[:d], gb[:d]
	inv := 1 / float32(d)
	if !HaveAVX2FMA || d == 0 || d%8 != 0 || d > normBackMax {
		for i := range n {
			row := x[i*d : (i+1)*d]
			normBackLoop(row, dy[i*d:(i+1)*d], g, gg, gb, dx[i*d:(i+1)*d], stats[2*i], stats[2*i+1], inv)
		}
		return
	}
	var buf [4 * normBackMax]float32 // dh and dh·x̂ of two rows
	dh0, p0 := buf[:d], buf[normBackMax:normBackMax+d]
	dh1, p1 := buf[2*normBackMax:2*normBackMax+d], buf[3*normBackMax:3*normBackMax+d]
	i := 0
	for ; i+2 <= n; i += 2 {
		a, b := i*d, (i+1)*d
		m0, r0, m1, r1 := stats[2*i], stats[2*i+1], stats[2*i+2], stats[2*i+3]
		normBackProducts(&x[a], &dy[a], &g[0], &gg[0], &gb[0], &dh0[0], &p0[0], d, m0, r0)
		normBackProducts(&x[b], &dy[b], &g[0], &gg[0], &gb[0], &dh1[0], &p1[0], d, m1, r1)
		var s0, t0, s1, t1 float32
		for j, v := range dh0 {
			s0 += v
			t0 += p0[j]
			s1 += dh1[j]
			t1 += p1[j]
		}
		normBackDx(&x[a], &dy[a], &g[0], &dx[a], d, m0, r0, s0*inv, t0*inv)
		normBackDx(&x[b], &dy[b], &g[0], &dx[b], d, m1, r1, s1*inv, t1*inv)
	}
	for ; i < n; i++ {
		a := i * d
		m, r := stats[2*i], stats[2*i+1]
		normBackProducts(&x[a], &dy[a], &g[0], &gg[0], &gb[0], &dh0[0], &p0[0], d, m, r)
		var s, t float32
		for j, v := range dh0 {
			s += v
			t += p0[j]
		}
		normBackDx(&x[a], &dy[a], &g[0], &dx[a], d, m, r, s*inv, t*inv)
	}
}

// normBackMax bounds the widths NormBack32's assembly takes (its scratch is on the stack).
const normBackMax = 256

func normBackLoop(x, dy, g, gg, gb, dx []float32, m, r, inv float32) {
	var s1, s2 float32
	for j := range x {
		xh := (x[j] - m) * r
		dh := dy[j] * g[j]
		s1 += dh
		s2 += dh * xh
		gg[j] += dy[j] * xh
		gb[j] += dy[j]
	}
	s1 *= inv
	s2 *= inv
	for j := range x {
		xh := (x[j] - m) * r
		dx[j] = r * (dy[j]*g[j] - s1 - xh*s2)
	}
}
