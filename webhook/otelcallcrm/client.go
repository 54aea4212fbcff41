package otelcallcrm

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// callKey carries the *call of a StartCall span to its attempts, limiter
// waits and token mints.
type callKey struct{}

type call struct{ service, operation string }

// callFrom returns the call in ctx, or an empty one outside a call.
func callFrom(ctx context.Context) call {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return *c
	}
	return call{}
}

// StartCall implements the clients' ClientObserver: a client span named
// "service operation" ("siro ListCalls") for one SDK method call, the
// parent of its attempts. end records the final status (0 if none) and
// error, and counts callcrm.client.requests.
func (o *Observer) StartCall(ctx context.Context, service, operation string) (context.Context, func(status int, err error)) {
	start := time.Now()
	c := &call{service: service, operation: operation}
	sctx, span := o.tracer.Start(ctx, service+" "+operation, o.kinds[trace.SpanKindClient][0],
		trace.WithAttributes(AttrService.String(service), AttrOperation.String(operation)))
	cctx := context.WithValue(sctx, callKey{}, c)
	return cctx, func(status int, err error) {
		dur := time.Since(start)
		et := errorType(status, err)
		if span.IsRecording() {
			if status != 0 {
				span.SetAttributes(keyStatus.Int(status))
			}
			if et != "" {
				span.SetAttributes(keyErrorType.String(et))
				recordError(span, err, et)
			}
		}
		span.End()
		set := o.sets.get(setKey{kind: kindCall, a: service, b: operation, c: et, status: status})
		o.inst.clientRequests.Add(cctx, 1, set.add...)
		o.inst.clientDuration.Record(cctx, dur.Seconds(), set.rec...)
	}
}

// StartAttempt implements the clients' ClientObserver: a client span
// named after the HTTP method for one attempt (attempt 1 first), child of
// the call's span. end records the status (0 if none), the error and the
// wait planned before the next attempt (callcrm.retry.wait, seconds).
func (o *Observer) StartAttempt(ctx context.Context, method string, attempt int) (context.Context, func(status int, err error, retryWait time.Duration)) {
	start := time.Now()
	c := callFrom(ctx)
	a := make(attrs, 0, 3)
	a = a.str(keyMethod, method)
	a = append(a, AttrAttempt.Int(attempt))
	if attempt > 1 {
		a = append(a, keyResendCount.Int(attempt-1))
		o.inst.clientRetries.Add(ctx, 1, o.sets.get(setKey{kind: kindRetry, a: c.service, b: c.operation}).add...)
	}
	name := method
	if name == "" {
		name = "HTTP"
	}
	actx, span := o.tracer.Start(ctx, name, o.kinds[trace.SpanKindClient][0], trace.WithAttributes(a...))
	return actx, func(status int, err error, retryWait time.Duration) {
		dur := time.Since(start)
		et := errorType(status, err)
		if span.IsRecording() {
			if status != 0 {
				span.SetAttributes(keyStatus.Int(status))
			}
			if retryWait > 0 {
				span.SetAttributes(AttrRetryWait.Float64(retryWait.Seconds()))
			}
			if et != "" {
				span.SetAttributes(keyErrorType.String(et))
				recordError(span, err, et)
			}
		}
		span.End()
		o.inst.attemptDuration.Record(actx, dur.Seconds(), o.sets.get(setKey{kind: kindAttempt, a: c.service, b: method, c: et, status: status}).rec...)
	}
}

// LimiterWait implements the clients' ClientObserver: the wait goes to
// the histogram callcrm.client.rate_limit.wait and, as an event, to the
// span in ctx.
func (o *Observer) LimiterWait(ctx context.Context, d time.Duration) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("rate limit wait", trace.WithAttributes(attribute.Float64("callcrm.wait", d.Seconds())))
	}
	o.inst.rateLimitWait.Record(ctx, d.Seconds(), o.sets.get(setKey{kind: kindLimiter, a: callFrom(ctx).service}).rec...)
}

// TokenMint implements the clients' ClientObserver: one OAuth token mint
// counts in callcrm.client.token.mints (outcome ok or error) and its
// duration in callcrm.client.token.mint.duration; the span in ctx gets an
// event. The token itself is never seen.
func (o *Observer) TokenMint(ctx context.Context, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		ea := []attribute.KeyValue{attribute.Float64("callcrm.duration", d.Seconds()), AttrOutcome.String(outcome)}
		if err != nil {
			ea = append(ea, attribute.String("exception.message", err.Error()))
		}
		span.AddEvent("token mint", trace.WithAttributes(ea...))
	}
	set := o.sets.get(setKey{kind: kindMint, a: callFrom(ctx).service, c: outcome})
	o.inst.tokenMints.Add(ctx, 1, set.add...)
	o.inst.tokenMintDuration.Record(ctx, d.Seconds(), set.rec...)
}
