package kernel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNormRow32 checks NormRow32 bit for bit against the Go loop on every length up to 70.
func TestNormRow32(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for n := 0; n <= 70; n++ {
			x, g, b := randF32(rng, n), randF32(rng, n), randF32(rng, n)
			m, r := float32(rng.NormFloat64()), float32(rng.Float64()+0.5)
			y := randF32(rng, n+2) // only the first n change
			want := append([]float32(nil), y...)
			for j := range x {
				want[j] = (x[j]-m)*r*g[j] + b[j]
			}
			NormRow32(y, x, g, b, m, r)
			for j := range y {
				if math.Float32bits(y[j]) != math.Float32bits(want[j]) {
					t.Fatalf("n %d: y[%d] = %g, want %g", n, j, y[j], want[j])
				}
			}
		}
	})
}

// NormBack32 stores the bits of its loop — gain and bias gradients and dx, dx aliasing dy or not —
// on every path, for widths the assembly takes and widths it leaves to the loop, and for odd and
// even row counts (rows go two at a time).
func TestNormBack32(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(2, 7))
		for _, d := range []int{3, 8, 64, 72, 256, 264} {
			for _, n := range []int{1, 2, 5} {
				for _, alias := range []bool{false, true} {
					x, dy, g := randF32(rng, n*d), randF32(rng, n*d), randF32(rng, d)
					gg, gb := randF32(rng, d), randF32(rng, d)
					stats := make([]float32, 2*n)
					for i := range n {
						stats[2*i], stats[2*i+1] = float32(i)*0.1, 1.7+float32(i)
					}
					wgg, wgb, wdx := slices.Clone(gg), slices.Clone(gb), make([]float32, n*d)
					for i := range n {
						normBackLoop(x[i*d:(i+1)*d], dy[i*d:(i+1)*d], g, wgg, wgb, wdx[i*d:(i+1)*d], stats[2*i], stats[2*i+1], 1/float32(d))
					}
					dx := make([]float32, n*d)
					if alias {
						dx = slices.Clone(dy)
						NormBack32(x, dx, g, gg, gb, dx, stats, n, d)
					} else {
						NormBack32(x, dy, g, gg, gb, dx, stats, n, d)
					}
					for j := range n * d {
						if math.Float32bits(dx[j]) != math.Float32bits(wdx[j]) {
							t.Fatalf("d=%d n=%d alias=%v: dx[%d] = %g, the loop %g", d, n, alias, j, dx[j], wdx[j])
						}
					}
					for j := range d {
						if math.Float32bits(gg[j]) != math.Float32bits(wgg[j]) || math.Float32bits(gb[j]) != math.Float32bits(wgb[j]) {
							t.Fatalf("d=%d n=%d alias=%v: gradients at %d: %g, %g; the loop %g, %g", d, n, alias, j, gg[j], gb[j], wgg[j], wgb[j])
						}
					}
				}
			}
		}
	})
}

// TestNormBackLoopOracle checks the loop that NormBack32's assembly reproduces against the layer
// norm's backward pass written out in float64: with x̂ = (x−m)·r and h = g·x̂,
// dx = r·(dy·g − mean(dy·g) − x̂·mean(dy·g·x̂)), ∂g += dy·x̂, ∂b += dy.
func TestNormBackLoopOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 1))
	for _, d := range []int{1, 3, 8, 64, 257} {
		x, dy, g := randF32(rng, d), randF32(rng, d), randF32(rng, d)
		gg, gb, dx := randF32(rng, d), randF32(rng, d), make([]float32, d)
		m, r := float32(rng.NormFloat64()), float32(rng.Float64()+0.5)
		wantGG, wantGB := make([]float64, d), make([]float64, d)
		var s1, s2 float64
		for j := range d {
			xh := (float64(x[j]) - float64(m)) * float64(r)
			dh := float64(dy[j]) * float64(g[j])
			s1 += dh / float64(d)
			s2 += dh * xh / float64(d)
			wantGG[j] = float64(gg[j]) + float64(dy[j])*xh
			wantGB[j] = float64(gb[j]) + float64(dy[j])
		}
		normBackLoop(x, dy, g, gg, gb, dx, m, r, 1/float32(d))
		for j := range d {
			xh := (float64(x[j]) - float64(m)) * float64(r)
			wantDX := float64(r) * (float64(dy[j])*float64(g[j]) - s1 - xh*s2)
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"dx", float64(dx[j]), wantDX}, {"gain gradient", float64(gg[j]), wantGG[j]}, {"bias gradient", float64(gb[j]), wantGB[j]}} {
				if math.Abs(c.got-c.want) > 1e-4*(1+math.Abs(c.want)) {
					t.Fatalf("d=%d: %s[%d] = %g, the formula %g", d, c.name, j, c.got, c.want)
				}
			}
		}
	}
}
