//go:build !linux

package features

import "time"

func threadCPU() time.Duration { return 0 }
