//go:build !linux

package main

import "time"

// threadCPU is not available on this platform; reports show wall time only.
func threadCPU() time.Duration { return 0 }
