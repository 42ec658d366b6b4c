//go:build unix

package usage

import (
	"runtime"
	"syscall"
	"time"
)

func rusage() (cpu time.Duration, peakRSS int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	rss := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" && runtime.GOOS != "ios" {
		rss *= 1024 // kilobytes everywhere but Apple's systems, which report bytes
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), rss
}
