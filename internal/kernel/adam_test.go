package kernel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Adam32's assembly stores the bits of its loop, for every length around the 8-wide blocks.
func TestAdam32(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	saved := HaveAVX2FMA
	defer func() { HaveAVX2FMA = saved }()
	for n := range 38 {
		w, g, m, v := randF32(rng, n), randF32(rng, n), randF32(rng, n), randF32(rng, n)
		for i := range v {
			v[i] = float32(math.Abs(float64(v[i]))) // a second moment
		}
		var out [2][4][]float32
		for k, asm := range []bool{false, saved} {
			HaveAVX2FMA = asm
			ww, mm, vv := slices.Clone(w), slices.Clone(m), slices.Clone(v)
			Adam32(ww, g, mm, vv, 0.9, 0.999, 1e-8, 0.003, 0.9999)
			out[k] = [4][]float32{ww, mm, vv, g}
		}
		for p, name := range []string{"w", "m", "v"} {
			for i := range n {
				if math.Float32bits(out[0][p][i]) != math.Float32bits(out[1][p][i]) {
					t.Fatalf("n=%d: %s[%d] = %g in assembly, %g in the loop", n, name, i, out[1][p][i], out[0][p][i])
				}
			}
		}
	}
	// The loop against the formula, in float64.
	w, g, m, v := []float32{0.5}, []float32{-0.2}, []float32{0.1}, []float32{0.04}
	Adam32(w, g, m, v, 0.9, 0.999, 1e-8, 0.01, 1)
	mw, vw := 0.9*0.1+0.1*-0.2, 0.999*0.04+0.001*0.04
	ww := 0.5 - 0.01*mw/(math.Sqrt(vw)+1e-8)
	if math.Abs(float64(m[0])-mw) > 1e-7 || math.Abs(float64(v[0])-vw) > 1e-7 || math.Abs(float64(w[0])-ww) > 1e-6 {
		t.Errorf("one step: w %v m %v v %v, want %v %v %v", w[0], m[0], v[0], ww, mw, vw)
	}
}

// BenchmarkAdam32 is one step over a 64×192 weight matrix.
func BenchmarkAdam32(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 64 * 192
	w, g, m, v := randF32(rng, n), randF32(rng, n), randF32(rng, n), make([]float32, n)
	for b.Loop() {
		Adam32(w, g, m, v, 0.9, 0.999, 1e-8, 0.003, 1)
	}
}
