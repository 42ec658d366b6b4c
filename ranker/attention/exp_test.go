package attention

import (
	"math"
	"testing"
)

func TestExpNeg(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x <= 0; x += 0.00137 {
		got, want := float64(expNeg(x)), math.Exp(float64(x))
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 3e-7 {
		t.Errorf("relative error %g", worst)
	}
	if got := expNeg(0); got != 1 {
		t.Errorf("expNeg(0) = %v", got)
	}
	if got := expNeg(float32(math.NaN())); !(got >= 0 && got < 1e-37) {
		t.Errorf("expNeg(NaN) = %v", got)
	}
	if got := expNeg(-1000); !(got >= 0 && got < 1e-37) {
		t.Errorf("expNeg(-1000) = %v", got)
	}
}
