//go:build !linux

package twotower

import "time"

func threadCPUTime() (time.Duration, bool) { return 0, false }
