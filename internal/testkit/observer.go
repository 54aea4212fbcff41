package testkit

import (
	"context"
	"sync"
	"time"
)

// ClientRecorder is a client observer (the ClientObserver of the vendor
// clients) that records what it is told. The zero value is ready to use
// and safe for concurrent use.
type ClientRecorder struct {
	mu       sync.Mutex
	calls    []string
	attempts []int
	statuses []int
	waits    []time.Duration
	limiter  int
}

// StartCall records "service op", then "end" when the call ends.
func (r *ClientRecorder) StartCall(ctx context.Context, service, op string) (context.Context, func(int, error)) {
	r.mu.Lock()
	r.calls = append(r.calls, service+" "+op)
	r.mu.Unlock()
	return ctx, func(int, error) {
		r.mu.Lock()
		r.calls = append(r.calls, "end")
		r.mu.Unlock()
	}
}

// StartAttempt records the attempt number, and its status and planned
// wait when it ends.
func (r *ClientRecorder) StartAttempt(ctx context.Context, _ string, attempt int) (context.Context, func(int, error, time.Duration)) {
	r.mu.Lock()
	r.attempts = append(r.attempts, attempt)
	r.mu.Unlock()
	return ctx, func(status int, _ error, wait time.Duration) {
		r.mu.Lock()
		r.statuses = append(r.statuses, status)
		r.waits = append(r.waits, wait)
		r.mu.Unlock()
	}
}

// LimiterWait counts the waits on the rate limiter.
func (r *ClientRecorder) LimiterWait(context.Context, time.Duration) {
	r.mu.Lock()
	r.limiter++
	r.mu.Unlock()
}

// TokenMint does nothing.
func (r *ClientRecorder) TokenMint(context.Context, time.Duration, error) {}

// Recorded is what a ClientRecorder was told, in order.
type Recorded struct {
	// Calls holds "service op" at each call's start and "end" at its end.
	Calls []string
	// Attempts holds each attempt's number.
	Attempts []int
	// Statuses holds each ended attempt's HTTP status.
	Statuses []int
	// Waits holds each ended attempt's planned wait before the next.
	Waits []time.Duration
	// LimiterWaits counts the waits on the rate limiter.
	LimiterWaits int
}

// Recorded returns a copy of what r was told so far.
func (r *ClientRecorder) Recorded() Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Recorded{
		Calls:        append([]string(nil), r.calls...),
		Attempts:     append([]int(nil), r.attempts...),
		Statuses:     append([]int(nil), r.statuses...),
		Waits:        append([]time.Duration(nil), r.waits...),
		LimiterWaits: r.limiter,
	}
}
