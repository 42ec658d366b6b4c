package main

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time consumed by the calling OS thread. The
// caller must hold runtime.LockOSThread. On a shared machine it measures
// the work of a single-threaded loop without the time it spent descheduled.
func threadCPU() time.Duration { return rusage(1) } // RUSAGE_THREAD

// processCPU returns the CPU time consumed by the whole process.
func processCPU() time.Duration { return rusage(syscall.RUSAGE_SELF) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
