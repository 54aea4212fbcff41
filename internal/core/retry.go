package core

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says how often and how long to retry: MaxRetries after the
// first attempt (0 disables retries), from BaseDelay doubling, every wait
// (a server's Retry-After with its jitter too) capped at MaxDelay. Jitter
// maps a computed delay to the one used (nil: [d/2, d] for backoff,
// [d, d + max(d/2, BaseDelay)] for a server's delay, never shorter than
// the server asked); OnRetry, if set, is called before each wait. The
// vendor packages' RetryPolicy documents the same fields.
type RetryPolicy struct {
	MaxRetries          int
	BaseDelay, MaxDelay time.Duration
	Jitter              func(d time.Duration) time.Duration
	OnRetry             func(RetryInfo)
}

// RetryInfo describes one upcoming retry: the Attempt that failed (from
// 1), its StatusCode (0 for a transport error) and Err, and the Delay
// before the next attempt.
type RetryInfo struct {
	Operation, Method, Route string
	Attempt, StatusCode      int
	Delay                    time.Duration
	Err                      error
}

// DefaultRetry is 2 retries, 500ms doubling, capped at 30s.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{MaxRetries: 2, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}
}

// Complete fills a zero BaseDelay and MaxDelay from DefaultRetry (MaxDelay
// at least BaseDelay) and names the first invalid field ("MaxDelay 1s is
// below BaseDelay 2s"); problem is "" for a usable policy. Vendor packages
// call it for their public RetryPolicy and prefix the problem with their
// own package and option.
func (p RetryPolicy) Complete() (filled RetryPolicy, problem string) {
	d := DefaultRetry()
	switch {
	case p.MaxRetries < 0:
		return p, fmt.Sprintf("MaxRetries %d is negative", p.MaxRetries)
	case p.BaseDelay < 0:
		return p, fmt.Sprintf("BaseDelay %v is negative", p.BaseDelay)
	case p.MaxDelay < 0:
		return p, fmt.Sprintf("MaxDelay %v is negative", p.MaxDelay)
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = max(d.MaxDelay, p.BaseDelay)
	}
	if p.MaxDelay < p.BaseDelay {
		return p, fmt.Sprintf("MaxDelay %v is below BaseDelay %v", p.MaxDelay, p.BaseDelay)
	}
	return p, ""
}

func (p *RetryPolicy) validate() error {
	switch {
	case p.MaxRetries < 0:
		return fmt.Errorf("%w: max retries %d is negative", ErrInvalidOption, p.MaxRetries)
	case p.MaxRetries > 0 && p.BaseDelay <= 0:
		return fmt.Errorf("%w: retry base delay must be positive", ErrInvalidOption)
	case p.MaxRetries > 0 && p.MaxDelay < p.BaseDelay:
		return fmt.Errorf("%w: retry max delay %v is below the base delay %v", ErrInvalidOption, p.MaxDelay, p.BaseDelay)
	}
	return nil
}

func (p *RetryPolicy) backoff(attempt int) time.Duration {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		if d > p.MaxDelay/2 {
			d = p.MaxDelay // doubling would pass the cap (or overflow)
			break
		}
		d *= 2
	}
	d = min(d, p.MaxDelay)
	if p.Jitter != nil {
		return min(max(p.Jitter(d), 0), p.MaxDelay)
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// serverDelay is the wait for a server-requested delay d: capped at
// MaxDelay, jittered upwards, and the result capped at MaxDelay again, so
// no wait exceeds MaxDelay (a delay at the cap is not jittered).
func (p *RetryPolicy) serverDelay(d time.Duration) time.Duration {
	d = min(d, p.MaxDelay)
	if p.Jitter != nil {
		return min(max(p.Jitter(d), d), p.MaxDelay)
	}
	spread := max(d/2, p.BaseDelay)
	if spread <= 0 {
		return d
	}
	// Bounded by what is left below the cap: no overflow of d+spread.
	spread = min(spread, p.MaxDelay-d)
	if spread <= 0 {
		return d
	}
	return d + rand.N(spread+min(1, math.MaxInt64-spread)) // up to d+spread inclusive
}

// methodRetryable: GET, HEAD, OPTIONS, PUT and DELETE are idempotent; POST
// and PATCH only when the call carries an Idempotency-Key.
func methodRetryable(method string, hasKey bool) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return hasKey
}

func retryableStatus(s int) bool {
	switch s {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isNetworkError: any transport error except cancellation, a refused
// redirect and certificate/TLS failures, which a retry cannot fix. The
// caller checks its own context first, so a deadline seen here is one
// attempt's timeout, which another attempt may beat.
func isNetworkError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrRedirectRefused) {
		return false
	}
	var (
		unknownAuth x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
		verify      *tls.CertificateVerificationError
		recordHdr   tls.RecordHeaderError
		alert       tls.AlertError
	)
	if errors.As(err, &unknownAuth) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &recordHdr) || errors.As(err, &alert) {
		return false
	}
	// Everything else the transport returns (refused connections, resets,
	// EOFs, timeouts of one attempt) may succeed on another attempt.
	return true
}

// provablyUnprocessed: a 429, or a 503 that says when to come back, means
// the server did not act on the request.
func provablyUnprocessed(e *APIError) bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable && e.RetryAfter > 0
}

// isDialError: the connection could not be opened (refused, unreachable,
// DNS failure), so nothing was sent.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// ParseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) && v[0] != '-' {
		// More seconds than int64 holds: as long a wait as any.
		secs, err = math.MaxInt64, nil
	}
	if err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
