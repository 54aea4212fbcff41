package otelcallcrm

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// callKey is the context key under which a *call answers with itself.
type callKey struct{}

// call is one StartCall's context (the span's, answering callKey with
// itself, so its attempts, limiter waits and token mints know the
// service and operation) and what its end needs.
type call struct {
	context.Context // carrying span

	o                  *Observer
	span               trace.Span
	start              time.Time
	service, operation string
}

// Value answers callKey with c and any other key from the span's
// context.
func (c *call) Value(key any) any {
	if _, ok := key.(callKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// noCall is what callFrom finds outside a call (never modified).
var noCall = &call{}

// callFrom returns the call in ctx, or noCall outside a call.
func callFrom(ctx context.Context) *call {
	if c, ok := ctx.Value(callKey{}).(*call); ok {
		return c
	}
	return noCall
}

// startKey names the cached start of a call's span (service, operation)
// or an attempt's (method, attempt number).
type startKey struct {
	a, b string
	n    int
}

// maxCachedAttempt bounds the attempt numbers whose span start options
// are cached.
const maxCachedAttempt = 8

// StartCall implements the clients' ClientObserver: a client span named
// "service operation" ("siro ListCalls") for one SDK method call, the
// parent of its attempts. end records the final status (0 if none) and
// error, and counts callcrm.client.requests.
func (o *Observer) StartCall(ctx context.Context, service, operation string) (context.Context, func(status int, err error)) {
	k := startKey{a: service, b: operation}
	ss, ok := o.clientStarts.load(k)
	if !ok {
		ss = o.clientStarts.store(k, spanStart{name: validUTF8(service + " " + operation), opts: []trace.SpanStartOption{
			o.kinds[trace.SpanKindClient][0], trace.WithAttributes(AttrService.String(validUTF8(service)), AttrOperation.String(validUTF8(operation))),
		}})
	}
	c := &call{o: o, service: service, operation: operation, start: time.Now()}
	c.Context, c.span = o.tracer.Start(ctx, ss.name, ss.opts...)
	return c, c.end
}

// end ends the call's span and records its metrics.
func (c *call) end(status int, err error) {
	dur := time.Since(c.start)
	et := errorType(status, err)
	endClientSpan(c.span, status, err, et, 0)
	set := c.o.sets.get(setKey{kind: kindCall, a: c.service, b: c.operation, c: et, status: status})
	c.o.inst.clientRequests.Add(c, 1, set.add...)
	c.o.inst.clientDuration.Record(c, dur.Seconds(), set.rec...)
}

// endClientSpan sets a call's or attempt's final attributes and ends its
// span.
func endClientSpan(span trace.Span, status int, err error, et string, retryWait time.Duration) {
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
}

// StartAttempt implements the clients' ClientObserver: a client span
// named after the HTTP method for one attempt (attempt 1 first), child of
// the call's span. end records the status (0 if none), the error and the
// wait planned before the next attempt (callcrm.retry.wait, seconds).
func (o *Observer) StartAttempt(ctx context.Context, method string, attempt int) (context.Context, func(status int, err error, retryWait time.Duration)) {
	start := time.Now()
	c := callFrom(ctx)
	if attempt > 1 {
		o.inst.clientRetries.Add(ctx, 1, o.sets.get(setKey{kind: kindRetry, a: c.service, b: c.operation}).add...)
	}
	if c.span != nil && !c.span.IsRecording() {
		// The call's trace is not sampled: as with a delivery's stages
		// (see delivery.unrecordedStage), no span for the attempt.
		return ctx, func(status int, err error, _ time.Duration) { o.attemptEnded(ctx, c, method, start, status, err) }
	}
	ss := o.attemptStart(method, attempt)
	actx, span := o.tracer.Start(ctx, ss.name, ss.opts...)
	return actx, func(status int, err error, retryWait time.Duration) {
		endClientSpan(span, status, err, o.attemptEnded(actx, c, method, start, status, err), retryWait)
	}
}

// attemptEnded records an attempt's duration and returns its error.type.
func (o *Observer) attemptEnded(ctx context.Context, c *call, method string, start time.Time, status int, err error) string {
	et := errorType(status, err)
	o.inst.attemptDuration.Record(ctx, time.Since(start).Seconds(), o.sets.get(setKey{kind: kindAttempt, a: c.service, b: method, c: et, status: status}).rec...)
	return et
}

// attemptStart is the name and start options of an attempt's span,
// cached for the first attempts of each method.
func (o *Observer) attemptStart(method string, attempt int) spanStart {
	k := startKey{a: method, n: attempt}
	if ss, ok := o.clientStarts.load(k); ok {
		return ss
	}
	a := make(attrs, 0, 3).str(keyMethod, method)
	a = append(a, AttrAttempt.Int(attempt))
	if attempt > 1 {
		a = append(a, keyResendCount.Int(attempt-1))
	}
	ss := spanStart{name: validUTF8(firstOf(method, "HTTP")), opts: []trace.SpanStartOption{o.kinds[trace.SpanKindClient][0], trace.WithAttributes(a...)}}
	if attempt < 1 || attempt > maxCachedAttempt {
		return ss
	}
	return o.clientStarts.store(k, ss)
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
			ea = append(ea, attribute.String("exception.message", errorMessage(err)))
		}
		span.AddEvent("token mint", trace.WithAttributes(ea...))
	}
	set := o.sets.get(setKey{kind: kindMint, a: callFrom(ctx).service, c: outcome})
	o.inst.tokenMints.Add(ctx, 1, set.add...)
	o.inst.tokenMintDuration.Record(ctx, d.Seconds(), set.rec...)
}
