// Package webhooktest has helpers for testing code built on this module
// without sleeping: FakeClock, a manually advanced clock that webhook
// receivers, verifiers, signers, dedupers, inboxes, the API clients'
// backoff and token expiry, and the vendors' test senders and fake servers
// all accept (it implements webhook.Clock).
//
//	clk := webhooktest.NewFakeClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
//	h, err := sivo.NewHandler([]string{secret}, cb, webhook.WithClock(clk))
//	if err != nil {
//		t.Fatal(err)
//	}
//	go func() {
//		// Wait until a retry is parked on the clock, then release it.
//		clk.BlockUntilWaiters(1, 5*time.Second)
//		clk.Advance(time.Minute)
//	}()
package webhooktest

import (
	"bytes"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// FakeClock is a manually advanced clock, safe for concurrent use. It
// implements webhook.Clock: pass it to webhook.WithClock,
// webhook.WithDedupeClock, siro.WithClock, engrami.WithClock and the test
// packages' clock options. Time moves only when Advance or Set is called.
type FakeClock struct {
	f *clock.Fake
}

// NewFakeClock returns a FakeClock set to t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{f: clock.NewFake(t)} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time { return c.f.Now() }

// After returns a channel that receives the fake time once the clock has
// been advanced by d or more; for d <= 0 it receives at once.
func (c *FakeClock) After(d time.Duration) <-chan time.Time { return c.f.After(d) }

// Advance moves the clock forward by d and fires every waiter that is due.
func (c *FakeClock) Advance(d time.Duration) { c.f.Advance(d) }

// Set moves the clock to t (forwards or backwards) and fires every waiter
// that is due.
func (c *FakeClock) Set(t time.Time) { c.f.Set(t) }

// Waiters reports how many After calls are pending.
func (c *FakeClock) Waiters() int { return c.f.Waiters() }

// NextWait returns the time from now to the earliest pending waiter; ok is
// false when nothing waits.
func (c *FakeClock) NextWait() (d time.Duration, ok bool) { return c.f.NextWait() }

// BlockUntilWaiters blocks until at least n After calls are pending or
// timeout (real time) elapses, and reports whether the count was reached.
// Use it to know a goroutine is parked in a backoff before advancing.
func (c *FakeClock) BlockUntilWaiters(n int, timeout time.Duration) bool {
	return c.f.BlockUntilWaiters(n, timeout)
}

// LogBuffer collects what is written to it (a slog handler's or a child
// process's output), safe for concurrent use: tests read it with String
// while writers are still running.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends b.
func (l *LogBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
