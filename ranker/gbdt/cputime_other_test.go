//go:build !unix

package gbdt

import "time"

func processCPU() time.Duration { return 0 }
