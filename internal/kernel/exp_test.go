package kernel

import (
	"math"
	"os"
	"runtime"
	"sync"
	"testing"
)

// exhaustive selects the scan of all 2³¹ float32 x ≤ 0 (several minutes of CPU):
//
//	CASCADE_EXHAUSTIVE=1 go test -run Exp ./internal/kernel/
//
// By default every 97th bit pattern is visited (22 million inputs, about a second).
var exhaustive = os.Getenv("CASCADE_EXHAUSTIVE") == "1"

// eachNonPositive calls fn(first, last, step) on 4·GOMAXPROCS goroutines for ranges of float32
// bit patterns that together cover every x ≤ 0 (sign bit set: −0 … −Inf and the negative NaNs)
// and +0, and returns the sum of fn's results.
func eachNonPositive(fn func(first, last, step uint32) int64) int64 {
	step := uint32(97)
	if exhaustive {
		step = 1
	}
	const lo, hi = 0x80000000, 0xffffffff
	parts := uint32(4 * runtime.GOMAXPROCS(0))
	span := (hi - lo) / parts
	var (
		mu    sync.Mutex
		total int64
		wg    sync.WaitGroup
	)
	for p := range parts {
		first := lo + p*span
		last := first + span - 1
		if p == parts-1 {
			last = hi
		}
		first += (step - (first-lo)%step) % step // stay on the global stride
		wg.Go(func() {
			n := fn(first, last, step)
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	return total + fn(0, 0, 1) // +0
}

// TestExp32Accuracy checks both float32 exponentials against math.Exp over x ≤ 0.
func TestExp32Accuracy(t *testing.T) {
	type worst struct{ e32, neg float64 }
	var mu sync.Mutex
	var w worst
	eachNonPositive(func(first, last, step uint32) int64 {
		var local worst
		for b := uint64(first); b <= uint64(last); b += uint64(step) {
			x := math.Float32frombits(uint32(b))
			if x != x {
				if v := Exp32(x); v == v {
					t.Errorf("Exp32(NaN) = %v", v)
				}
				if v := Exp32Neg(x); !(v > 0 && v < 1e-37) {
					t.Errorf("Exp32Neg(NaN) = %v", v)
				}
				continue
			}
			want := math.Exp(float64(x))
			e32, neg := float64(Exp32(x)), float64(Exp32Neg(x))
			if x >= -87 {
				local.e32 = max(local.e32, math.Abs(e32-want)/want)
				local.neg = max(local.neg, math.Abs(neg-want)/want)
				continue
			}
			if x < -87.3365447505531 && e32 != 0 {
				t.Errorf("Exp32(%v) = %v, want 0", x, e32)
			}
			if neg != float64(Exp32Neg(-87)) {
				t.Errorf("Exp32Neg(%v) = %v, want e^-87", x, neg)
			}
		}
		mu.Lock()
		w.e32, w.neg = max(w.e32, local.e32), max(w.neg, local.neg)
		mu.Unlock()
		return 0
	})
	if w.e32 > 2e-7 || w.neg > 2e-7 {
		t.Errorf("relative error on [-87, 0]: Exp32 %g, Exp32Neg %g, want < 2e-7", w.e32, w.neg)
	}
	if Exp32(0) != 1 || Exp32Neg(0) != 1 {
		t.Errorf("e^0: %v %v", Exp32(0), Exp32Neg(0))
	}
	worstPos := 0.0
	for x := 0.0; x < 88; x += 0.001 {
		got, want := float64(Exp32(float32(x))), math.Exp(float64(float32(x)))
		worstPos = max(worstPos, math.Abs(got-want)/want)
	}
	if worstPos > 3e-7 {
		t.Errorf("Exp32 relative error on [0, 88): %g", worstPos)
	}
	if !math.IsInf(float64(Exp32(89)), 1) || !math.IsInf(float64(Exp32(float32(math.Inf(1)))), 1) {
		t.Errorf("Exp32 above 88.38: %v", Exp32(89))
	}
}

// TestExpVariantsDiffer pins why Exp32 and Exp32Neg stay two functions: on x ≤ 0, the domain
// both serve (softmaxes subtract the maximum), they differ in the last bits on 637,180 inputs in
// [−87, 0], where their ways of splitting x round differently, and on every input below −87, so
// merging them would change the outputs of nn's or the attention ranker's softmax.
func TestExpVariantsDiffer(t *testing.T) {
	var below int64
	var mu sync.Mutex
	differ := eachNonPositive(func(first, last, step uint32) int64 {
		var n, b int64
		for u := uint64(first); u <= uint64(last); u += uint64(step) {
			x := math.Float32frombits(uint32(u))
			if x != x || math.Float32bits(Exp32(x)) == math.Float32bits(Exp32Neg(x)) {
				continue
			}
			if x >= -87 {
				n++
			} else {
				b++
			}
		}
		mu.Lock()
		below += b
		mu.Unlock()
		return n
	})
	if !exhaustive {
		if differ == 0 || below == 0 {
			t.Errorf("sampled: %d differences on [-87, 0], %d below", differ, below)
		}
		return
	}
	// Every float32 below −87 (bit patterns above −87's 0xc2ae0000 up to −Inf's) differs.
	if want := int64(0xff800000 - 0xc2ae0000); differ != 637180 || below != want {
		t.Errorf("%d differences on [-87, 0], %d below −87; want 637180 and %d", differ, below, want)
	}
	if x := float32(-0.0015522661); Exp32(x) == Exp32Neg(x) {
		t.Errorf("Exp32 and Exp32Neg agree at %v", x)
	}
}

func TestExp64Neg(t *testing.T) {
	for x := 0.0; x > -750; x -= 0.000731 {
		got, want := Exp64Neg(x), math.Exp(x)
		if x < -700 {
			want = 0
		}
		if math.Abs(got-want) > 1e-9*want {
			t.Fatalf("Exp64Neg(%v) = %v, want %v", x, got, want)
		}
	}
	if Exp64Neg(0) != 1 || Exp64Neg(-800) != 0 {
		t.Errorf("Exp64Neg(0) = %v, Exp64Neg(-800) = %v", Exp64Neg(0), Exp64Neg(-800))
	}
}

var sinkF32 float32
var sinkF64 float64

func BenchmarkExp32(b *testing.B) {
	x := float32(-3)
	for b.Loop() {
		sinkF32 += Exp32(x)
		x -= 1e-4
	}
}

func BenchmarkExp32Neg(b *testing.B) {
	x := float32(-3)
	for b.Loop() {
		sinkF32 += Exp32Neg(x)
		x -= 1e-4
	}
}

func BenchmarkExp64Neg(b *testing.B) {
	x := -3.0
	for b.Loop() {
		sinkF64 += Exp64Neg(x)
		x -= 1e-4
	}
}
