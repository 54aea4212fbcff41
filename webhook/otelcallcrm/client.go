package otelcallcrm

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// callKey carries the *call of a StartCall span to its attempts, limiter
// waits and token mints.
type callKey struct{}

type call struct{ service, operation string }

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// callAttrs is the bounded metric attributes of the call in ctx (service,
// and operation when withOp), then extra.
func callAttrs(c *call, withOp bool, extra ...attribute.KeyValue) []attribute.KeyValue {
	a := make([]attribute.KeyValue, 0, 2+len(extra))
	if c != nil {
		a = append(a, AttrService.String(c.service))
		if withOp {
			a = append(a, AttrOperation.String(c.operation))
		}
	}
	return append(a, extra...)
}

// StartCall implements the clients' ClientObserver: a client span named
// "service operation" ("siro ListCalls") for one SDK method call, the
// parent of its attempts. end records the final status (0 if none) and
// error, and counts callcrm.client.requests.
func (o *Observer) StartCall(ctx context.Context, service, operation string) (context.Context, func(status int, err error)) {
	start := time.Now()
	c := &call{service: service, operation: operation}
	ctx, span := o.tracer.Start(ctx, service+" "+operation, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start),
		trace.WithAttributes(AttrService.String(service), AttrOperation.String(operation)))
	ctx = context.WithValue(ctx, callKey{}, c)
	return ctx, func(status int, err error) {
		end := time.Now()
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
		span.End(trace.WithTimestamp(end))
		a := callAttrs(c, true)
		if status != 0 {
			a = append(a, keyStatus.Int(status))
		}
		if et != "" {
			a = append(a, keyErrorType.String(et))
		}
		set := metric.WithAttributeSet(attribute.NewSet(a...))
		o.inst.clientRequests.Add(ctx, 1, set)
		o.inst.clientDuration.Record(ctx, end.Sub(start).Seconds(), set)
	}
}

// StartAttempt implements the clients' ClientObserver: a client span
// named after the HTTP method for one attempt (attempt 1 first), child of
// the call's span. end records the status (0 if none), the error and the
// wait planned before the next attempt (callcrm.retry.wait, seconds).
func (o *Observer) StartAttempt(ctx context.Context, method string, attempt int) (context.Context, func(status int, err error, retryWait time.Duration)) {
	start := time.Now()
	c := callFrom(ctx)
	a := make(attrs, 0, 4)
	a = a.str(keyMethod, method)
	a = append(a, AttrAttempt.Int(attempt))
	if attempt > 1 {
		a = append(a, keyResendCount.Int(attempt-1))
		o.inst.clientRetries.Add(ctx, 1, metric.WithAttributes(callAttrs(c, true)...))
	}
	name := method
	if name == "" {
		name = "HTTP"
	}
	ctx, span := o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(start), trace.WithAttributes(a...))
	return ctx, func(status int, err error, retryWait time.Duration) {
		end := time.Now()
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
		span.End(trace.WithTimestamp(end))
		ma := callAttrs(c, false)
		ma = attrs(ma).str(keyMethod, method)
		if status != 0 {
			ma = append(ma, keyStatus.Int(status))
		}
		if et != "" {
			ma = append(ma, keyErrorType.String(et))
		}
		o.inst.attemptDuration.Record(ctx, end.Sub(start).Seconds(), metric.WithAttributes(ma...))
	}
}

// LimiterWait implements the clients' ClientObserver: the wait goes to
// the histogram callcrm.client.rate_limit.wait and, as an event, to the
// span in ctx.
func (o *Observer) LimiterWait(ctx context.Context, d time.Duration) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("rate limit wait", trace.WithAttributes(attribute.Float64("callcrm.wait", d.Seconds())))
	}
	o.inst.rateLimitWait.Record(ctx, d.Seconds(), metric.WithAttributes(callAttrs(callFrom(ctx), false)...))
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
	set := metric.WithAttributeSet(attribute.NewSet(callAttrs(callFrom(ctx), false, AttrOutcome.String(outcome))...))
	o.inst.tokenMints.Add(ctx, 1, set)
	o.inst.tokenMintDuration.Record(ctx, d.Seconds(), set)
}
