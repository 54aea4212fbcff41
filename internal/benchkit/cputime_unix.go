//go:build unix

package benchkit

import (
	"syscall"
	"time"
)

// CPUTime is this process's user plus system CPU time (0 if unknown).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
