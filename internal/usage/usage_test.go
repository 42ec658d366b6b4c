package usage

import (
	"runtime"
	"testing"
	"time"
)

func TestSinceCountsWork(t *testing.T) {
	s := Now()
	buf := make([]byte, 64<<20) // touched, so resident
	for i := range buf {
		buf[i] = byte(i)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	c := Since(s)
	runtime.KeepAlive(buf)
	if c.Wall < 50*time.Millisecond {
		t.Errorf("wall %v", c.Wall)
	}
	if runtime.GOOS == "linux" && (c.CPU <= 0 || c.PeakRSS < 64<<20) {
		t.Errorf("cpu %v, peak RSS %.0f MB after touching 64 MB", c.CPU, MB(c.PeakRSS))
	}
	if c.Heap < 64<<20 {
		t.Errorf("heap %.0f MB with 64 MB live", MB(c.Heap))
	}
}
