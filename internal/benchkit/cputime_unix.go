//go:build unix

package benchkit

import (
	"syscall"
	"time"
)

// CPUTime is this process's user plus system CPU time (0 if unknown).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	user, sys := time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
	return user + sys
}
