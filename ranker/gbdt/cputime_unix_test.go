//go:build unix

package gbdt

import (
	"syscall"
	"time"
)

// processCPU is the process's user+system CPU time. Benchmarks report it beside wall time
// because shared build machines inflate wall time with other jobs' load.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
