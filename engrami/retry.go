package engrami

import (
	"time"

	"github.com/callcrm/callcrm-go/internal/core"
)

// RetryPolicy says how often and how long the client retries a failed
// call. GET, PUT and DELETE are retried after a transport error, a 408,
// 425, 429, 500, 502, 503 or 504; POST and PATCH only with an
// Idempotency-Key (WithIdempotencyKey). MaxDelay also caps a 429's wait
// until X-RateLimit-Reset. Zero BaseDelay and MaxDelay take DefaultRetry's values, so a
// partial policy such as RetryPolicy{MaxRetries: 5} is complete.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt; 0
	// disables retries.
	MaxRetries int
	// BaseDelay is the first backoff; each retry doubles it. Zero means
	// DefaultRetry's 500ms.
	BaseDelay time.Duration
	// MaxDelay caps every backoff and a server's Retry-After. Zero means
	// DefaultRetry's 30s (or BaseDelay, if that is larger).
	MaxDelay time.Duration
	// Jitter, if set, maps the computed delay d to the delay actually used;
	// nil means a random delay in [d/2, d] for backoff, and for a server's
	// delay d a random delay in [d, d + max(d/2, BaseDelay)] so that callers
	// told to wait the same time do not retry together. A custom Jitter is
	// never allowed to shorten a server's delay.
	Jitter func(d time.Duration) time.Duration
	// OnRetry, if set, is called before each wait.
	OnRetry func(RetryInfo)
}

// RetryInfo describes one upcoming retry, for RetryPolicy.OnRetry.
type RetryInfo struct {
	// Operation is the SDK operation name, e.g. "Actions.Create".
	Operation string
	// Method is the HTTP method.
	Method string
	// Route is the path template.
	Route string
	// Attempt is the attempt that failed, from 1.
	Attempt int
	// Delay is the wait before the next attempt.
	Delay time.Duration
	// StatusCode is the failed attempt's status, 0 for a transport error.
	StatusCode int
	// Err is the failed attempt's error (*Error or *RequestError).
	Err error
}

// DefaultRetry is the policy a client and a Sender use without WithRetry: 2 retries,
// 500ms doubling, capped at 30s.
func DefaultRetry() RetryPolicy {
	d := core.DefaultRetry()
	return RetryPolicy{MaxRetries: d.MaxRetries, BaseDelay: d.BaseDelay, MaxDelay: d.MaxDelay}
}

// internal fills p from the defaults, validates it and returns the
// internal HTTP layer's policy.
func (p RetryPolicy) internal(where string) (*core.RetryPolicy, error) {
	filled, problem := core.RetryPolicy{MaxRetries: p.MaxRetries, BaseDelay: p.BaseDelay, MaxDelay: p.MaxDelay, Jitter: p.Jitter}.Complete()
	if problem != "" {
		return nil, optErr(where, "%s", problem)
	}
	cp := &filled
	if on := p.OnRetry; on != nil {
		cp.OnRetry = func(i core.RetryInfo) {
			on(RetryInfo{Operation: i.Operation, Method: i.Method, Route: i.Route, Attempt: i.Attempt,
				Delay: i.Delay, StatusCode: i.StatusCode, Err: publicError(i.Err)})
		}
	}
	return cp, nil
}
