// Package bulksim drives a fake clock like a zero-latency network, for the
// tests of siro's bulk sync and of siro/sirosql's shared limiter: a
// rate-limited run of thousands of requests takes simulated minutes and
// real milliseconds, and each request reaches the fake Siro at the
// fake-clock time of its slot.
package bulksim

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// Sim moves simulated time (to the earliest wake-up) only when every
// request its limiters booked is either parked on the clock or has
// reached the fake, so no request is in flight while the clock jumps.
type Sim struct {
	clk    *clock.Fake
	fake   *sirotest.Server
	booked atomic.Int64
}

// New returns a Sim over clk for requests that end at fake.
func New(clk *clock.Fake, fake *sirotest.Server) *Sim { return &Sim{clk: clk, fake: fake} }

// Limiter wraps a limiter's slot booking (reserve returns the time the
// request may go) so the Sim sees every request.
func (s *Sim) Limiter(reserve func(context.Context) (time.Time, error)) siro.Limiter {
	return limiter{s, reserve}
}

type limiter struct {
	s       *Sim
	reserve func(context.Context) (time.Time, error)
}

func (l limiter) Wait(ctx context.Context) error {
	l.s.booked.Add(1)
	at, err := l.reserve(ctx)
	if err == nil {
		err = siro.WaitUntil(ctx, l.s.clk, at)
	}
	if err != nil {
		l.s.booked.Add(-1) // never sent
	}
	return err
}

// Resync forgets bookings that were never sent (a cancelled run).
func (s *Sim) Resync() { s.booked.Store(s.fake.Arrivals()) }

// Run moves the clock in the background until stop is called.
func (s *Sim) Run() (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		last := time.Now()
		for {
			select {
			case <-done:
				return
			default:
			}
			n := s.clk.Waiters()
			arrived := s.fake.Arrivals()
			if n > 0 && (s.booked.Load()-arrived <= int64(n) || time.Since(last) > time.Second) {
				if d, ok := s.clk.NextWait(); ok {
					s.clk.Advance(d)
				}
				last = time.Now()
				continue
			}
			// Wakes as soon as a worker parks again.
			s.clk.BlockUntilWaiters(n+1, 200*time.Microsecond)
		}
	}()
	return func() { close(done); <-finished }
}
