package siro

import (
	"context"
	"time"
)

// ClientObserver sees the client's calls, for telemetry (an OpenTelemetry
// adapter, metrics, logs). It uses standard library types only. Set it with
// WithObserver; without one the client pays a nil check per call.
//
// StartCall is called once per SDK method call with the service
// ("siro-org" for the organization API and "siro-user" for the user API) and the method's fixed operation name
// (such as "Recordings.Details"), never a URL with ids; the returned function
// is called when the call ends, with the final HTTP status (0 when no
// answer arrived) and error. StartAttempt is called for every HTTP attempt
// (retries and the replay after a 401 included, attempt counting from 1);
// its function gets the attempt's status, error and the wait planned before
// the next attempt (0 when none follows). LimiterWait reports time spent
// waiting for the client's rate limiter before an attempt, TokenMint every
// fetch of a refreshing credential with its duration and error. The
// contexts returned are used for what follows (so spans nest). A panic in
// any method is recovered and ignored: telemetry never breaks a call.
type ClientObserver interface {
	// StartCall begins one logical call.
	StartCall(ctx context.Context, service, operation string) (context.Context, func(status int, err error))
	// StartAttempt begins one HTTP attempt of the call in ctx.
	StartAttempt(ctx context.Context, method string, attempt int) (context.Context, func(status int, err error, retryWait time.Duration))
	// LimiterWait reports the time an attempt waited for the rate limiter.
	LimiterWait(ctx context.Context, d time.Duration)
	// TokenMint reports one token fetch of a refreshing credential.
	TokenMint(ctx context.Context, d time.Duration, err error)
}

// WithObserver sets the observer told about every call, attempt, rate-limit
// wait and token mint (see ClientObserver). A nil observer is refused.
func WithObserver(o ClientObserver) Option {
	return func(c *config) error {
		if o == nil {
			return optErr("WithObserver", "observer is nil")
		}
		c.observer = o
		return nil
	}
}
