package siro

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/webhook"
)

// Siro documents 1,000 requests per API token per minute.
const (
	// SiroRequestsPerMinute is Siro's documented limit per token.
	SiroRequestsPerMinute = 1000
	// DefaultRequestsPerMinute is the default client limiter's rate,
	// with headroom under Siro's limit.
	DefaultRequestsPerMinute = 900
	// DefaultLimiterBurst is the default client limiter's burst.
	DefaultLimiterBurst = 100
)

// Limiter paces every request a Client sends: Wait is called before each
// attempt (retries included) and blocks until the attempt may go or ctx is
// done. Siro's budget belongs to the token, not the process: replicas that
// share a token should share one Limiter (see the sirosql package for one
// on PostgreSQL). Implementations must be safe for concurrent use.
type Limiter interface {
	Wait(ctx context.Context) error
}

// LimiterConfig configures NewLimiter.
type LimiterConfig struct {
	// PerMinute is the most requests sent in any 60-second window.
	PerMinute int
	// Burst is how many requests may go at once after an idle spell
	// (default 1: evenly spaced). The window guarantee holds with any burst:
	// the sustained spacing is one minute / (PerMinute - Burst + 1).
	Burst int
	// Clock is the time source (default the real clock).
	Clock webhook.Clock
}

// Interval returns the sustained spacing between requests that keeps
// PerMinute in any 60-second window with the given burst. It reports an
// error naming what is wrong with the values.
func (c LimiterConfig) Interval() (time.Duration, error) {
	burst := max(c.Burst, 1)
	switch {
	case c.PerMinute <= 0:
		return 0, fmt.Errorf("%w: limiter rate %d per minute must be positive", ErrInvalidOption, c.PerMinute)
	case c.Burst < 0:
		return 0, fmt.Errorf("%w: limiter burst %d is negative", ErrInvalidOption, c.Burst)
	case burst > c.PerMinute:
		return 0, fmt.Errorf("%w: limiter burst %d exceeds the rate %d per minute", ErrInvalidOption, c.Burst, c.PerMinute)
	}
	// Rounded up: a truncated interval would fit one request too many.
	n := time.Duration(c.PerMinute - burst + 1)
	return (time.Minute + n - 1) / n, nil
}

// RateLimiter is the in-process Limiter: a token bucket in its GCRA form
// (one "theoretical arrival time", no goroutine). A caller reserves the
// next slot and waits for it on the clock; a cancelled wait gives up its
// slot, so the budget is never exceeded. Safe for concurrent use.
type RateLimiter struct {
	interval time.Duration
	burst    time.Duration // (burst) * interval
	clock    clock.Clock

	mu  sync.Mutex
	tat time.Time
}

// NewLimiter returns an in-process limiter for one process's share of a
// token's budget.
func NewLimiter(cfg LimiterConfig) (*RateLimiter, error) {
	iv, err := cfg.Interval()
	if err != nil {
		return nil, err
	}
	return &RateLimiter{interval: iv, burst: time.Duration(max(cfg.Burst, 1)) * iv, clock: clock.Or(cfg.Clock)}, nil
}

// Reserve books the next slot and returns when it is (now or later).
func (l *RateLimiter) Reserve() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	base := l.tat
	if base.Before(now) {
		base = now
	}
	l.tat = base.Add(l.interval)
	at := l.tat.Add(-l.burst)
	if at.Before(now) {
		at = now
	}
	return at
}

// Wait implements Limiter.
func (l *RateLimiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return WaitUntil(ctx, l.clock, l.Reserve())
}

// WaitUntil blocks until the clock reaches at or ctx is done; Limiter
// implementations that reserve a slot elsewhere (a database) use it.
func WaitUntil(ctx context.Context, clk webhook.Clock, at time.Time) error {
	clk = clock.Or(clk)
	d := at.Sub(clk.Now())
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clk.After(d):
		return nil
	}
}

// Unlimited is a Limiter that never waits (tests, or a proxy that paces).
type Unlimited struct{}

// Wait implements Limiter.
func (Unlimited) Wait(ctx context.Context) error { return ctx.Err() }

// WithLimiter sets the limiter every org API request waits on (default:
// an in-process RateLimiter at DefaultRequestsPerMinute with
// DefaultLimiterBurst, on the client's clock). Pass the same limiter to
// every client, in every replica, that uses the same org token.
func WithLimiter(l Limiter) Option {
	return limiterOption("limiter", l, func(c *config) { c.limiter = l })
}

// WithUserLimiter sets the limiter every user API request waits on (the
// user access token has its own budget; default as for WithLimiter).
func WithUserLimiter(l Limiter) Option {
	return limiterOption("user limiter", l, func(c *config) { c.userLimiter = l })
}

// limiterOption sets l, a what ("limiter"), with set; l must not be nil.
func limiterOption(what string, l Limiter, set func(*config)) Option {
	return func(c *config) error {
		if l == nil {
			return fmt.Errorf("%w: %s is nil (use siro.Unlimited{} to disable limiting)", ErrInvalidOption, what)
		}
		set(c)
		return nil
	}
}

// limiters returns the configured limiters or the defaults.
func (c *config) limiters() (org, user Limiter) {
	org, user = c.limiter, c.userLimiter
	def := func() Limiter {
		l, _ := NewLimiter(LimiterConfig{PerMinute: DefaultRequestsPerMinute, Burst: DefaultLimiterBurst, Clock: c.clock})
		return l
	}
	if org == nil {
		org = def()
	}
	if user == nil {
		user = def()
	}
	return org, user
}
