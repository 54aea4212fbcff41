package core

import (
	"context"
	"time"
)

// ClientObserver sees a client's calls (telemetry hooks). It uses standard
// library types only, so an adapter (OpenTelemetry, say) lives outside the
// core. The vendor packages declare the same interface for their users.
//
// StartCall is called once per logical call (an SDK method) with a fixed
// service ("siro-org", "siro-user", "engrami") and operation name
// ("Recordings.Details"), never a URL; its end function gets the final
// status (0 when no response arrived) and error. StartAttempt is called
// for every HTTP attempt, the replay after a 401 included; its end function
// gets the attempt's status, error and the wait planned before the next
// attempt (0 when none follows). LimiterWait reports the time spent in the
// rate limiter before an attempt, TokenMint each token fetch of a
// refreshing credential. A panic in any of these is recovered and ignored.
type ClientObserver interface {
	StartCall(ctx context.Context, service, operation string) (context.Context, func(status int, err error))
	StartAttempt(ctx context.Context, method string, attempt int) (context.Context, func(status int, err error, retryWait time.Duration))
	LimiterWait(ctx context.Context, d time.Duration)
	TokenMint(ctx context.Context, d time.Duration, err error)
}

// The helpers below call an observer and swallow its panics: telemetry
// never breaks a call. Each is reached only when an observer is set.

// observeStart calls start (an observer's StartCall or StartAttempt) and
// returns its context and end function: ctx when it returns a nil
// context, and ctx with a nil end when it panics.
func observeStart[E any](ctx context.Context, start func() (context.Context, E)) (octx context.Context, end E) {
	defer func() {
		if recover() != nil {
			var none E
			octx, end = ctx, none
		}
	}()
	octx, end = start()
	if octx == nil {
		octx = ctx
	}
	return octx, end
}

func observeStartCall(ctx context.Context, o ClientObserver, service, op string) (context.Context, func(int, error)) {
	return observeStart(ctx, func() (context.Context, func(int, error)) { return o.StartCall(ctx, service, op) })
}

func observeEndCall(end func(int, error), status int, err error) {
	if end == nil {
		return
	}
	defer func() { _ = recover() }()
	end(status, err)
}

func observeStartAttempt(ctx context.Context, o ClientObserver, method string, attempt int) (context.Context, func(int, error, time.Duration)) {
	return observeStart(ctx, func() (context.Context, func(int, error, time.Duration)) { return o.StartAttempt(ctx, method, attempt) })
}

func observeEndAttempt(end func(int, error, time.Duration), status int, err error, wait time.Duration) {
	if end == nil {
		return
	}
	defer func() { _ = recover() }()
	end(status, err, wait)
}

func observeLimiterWait(ctx context.Context, o ClientObserver, d time.Duration) {
	defer func() { _ = recover() }()
	o.LimiterWait(ctx, d)
}

func observeTokenMint(ctx context.Context, o ClientObserver, d time.Duration, err error) {
	defer func() { _ = recover() }()
	o.TokenMint(ctx, d, err)
}

// mintObservable is a credential that fetches tokens and reports each
// fetch to an observer (RefreshingAuth).
type mintObservable interface {
	observeMints(o ClientObserver)
}
