//go:build !unix

package usage

import "time"

// rusage is not available here: costs show wall time and the Go heap only.
func rusage() (time.Duration, int64) { return 0, 0 }
