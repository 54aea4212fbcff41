package core

import (
	"syscall"
	"time"
)

// processCPU is this process's user plus system CPU time: the client and
// the loopback server both count, other load on the machine does not.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
