package testkit

import (
	"sync"
	"testing"
	"time"
)

// Waiter is a fake clock whose pending waits a test can see and fire
// (webhooktest.FakeClock is one).
type Waiter interface {
	// BlockUntilWaiters reports whether n waits are pending within
	// timeout (real time).
	BlockUntilWaiters(n int, timeout time.Duration) bool
	// NextWait returns the shortest pending wait.
	NextWait() (time.Duration, bool)
	// Advance moves the clock forward by d.
	Advance(d time.Duration)
}

// AutoAdvance fires every wait made on clk as soon as it is made, until
// the returned stop is called or the test ends. stop may be called more
// than once; it returns after the driving goroutine has ended.
func AutoAdvance(t testing.TB, clk Waiter) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
			}
			if clk.BlockUntilWaiters(1, 5*time.Millisecond) {
				if d, ok := clk.NextWait(); ok {
					clk.Advance(d)
				}
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	t.Cleanup(stop)
	return stop
}
