//go:build !unix

package benchkit

import "time"

// CPUTime is not measured off Unix: it returns 0.
func CPUTime() time.Duration { return 0 }
