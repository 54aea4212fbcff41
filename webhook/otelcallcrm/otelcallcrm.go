package otelcallcrm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/callcrm/callcrm-go/internal/errtext"
	"github.com/callcrm/callcrm-go/webhook"
)

// ScopeName is the instrumentation scope of every tracer and meter the
// adapter creates.
const ScopeName = "github.com/callcrm/callcrm-go/webhook/otelcallcrm"

// Observer adapts callcrm-go's observer hooks to OpenTelemetry traces and
// metrics. One value serves every part of the SDK: it implements
// webhook.Observer (receivers' and inboxes' WithObserver) and the clients'
// ClientObserver (siro.WithObserver, engrami.WithObserver). Build it with
// New; it is safe for concurrent use.
type Observer struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	tenant func(string) string
	kinds  [trace.SpanKindConsumer + 1][]trace.SpanStartOption // {WithSpanKind(k)}, built once
	inst   instruments
	sets   setCache
	routes cowMap[routeKey, *route]

	clientStarts cowMap[startKey, spanStart] // calls' and attempts' span starts

	mu     sync.Mutex
	closed bool
	reg    metric.Registration
}

var _ webhook.Observer = (*Observer)(nil)

// Option configures New.
type Option func(*config) error

type config struct {
	tp     trace.TracerProvider
	mp     metric.MeterProvider
	prop   propagation.TextMapPropagator
	tenant func(string) string
	depth  func(context.Context) (int64, error)
}

func optErr(option, format string, args ...any) error {
	return fmt.Errorf("%w: otelcallcrm.%s: "+format, append([]any{webhook.ErrInvalidOption, option}, args...)...)
}

// option is an Option setting what set sets, unless v, what the caller
// passed, is nil: then it is an error naming the option.
func option(name string, v any, what string, set func(*config)) Option {
	return func(c *config) error {
		if isNil(v) {
			return optErr(name, "%s is nil", what)
		}
		set(c)
		return nil
	}
}

// isNil reports whether v is nil or holds a nil pointer, map, slice,
// channel or function: a typed nil provider (a *sdktrace.TracerProvider
// left nil) would panic on first use.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

// WithTracerProvider sets where spans go (default: otel.GetTracerProvider()
// when New is called).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return option("WithTracerProvider", tp, "provider", func(c *config) { c.tp = tp })
}

// WithMeterProvider sets where metrics go (default: otel.GetMeterProvider()
// when New is called).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return option("WithMeterProvider", mp, "provider", func(c *config) { c.mp = mp })
}

// WithPropagator sets how Inject and Extract carry a delivery's trace
// context through an inbox (default: W3C Trace Context and Baggage, the
// "traceparent", "tracestate" and "baggage" keys). It does not change the
// global propagator.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return option("WithPropagator", p, "propagator", func(c *config) { c.prop = p })
}

// WithTenantAttribute adds the attribute callcrm.tenant to the webhook
// metrics, with the value label(tenant) ("" leaves it out for that
// delivery). Tenant is not a metric attribute by default: each distinct
// value is a new time series, so label must map tenants to a small,
// bounded set (your plans, regions or your ten largest accounts, "other"
// for the rest). Spans always carry the tenant; it is not a secret.
func WithTenantAttribute(label func(tenant string) string) Option {
	return option("WithTenantAttribute", label, "label function", func(c *config) { c.tenant = label })
}

// WithInboxDepth reports the number of deliveries waiting in the inbox as
// the gauge callcrm.inbox.depth, read by calling depth at each metric
// collection (the depth lives in the inbox's database, so only you know
// how to count it: riverinbox's pending jobs, MemoryInbox.Len). An error
// from depth skips that collection's value and is handed to the OTel
// error handler.
func WithInboxDepth(depth func(ctx context.Context) (int64, error)) Option {
	return option("WithInboxDepth", depth, "depth function", func(c *config) { c.depth = depth })
}

// New returns an Observer that records spans and metrics through the
// providers set by the options (the global ones by default). Options are
// validated here; an invalid one (a nil one too) is an error wrapping
// webhook.ErrInvalidOption that names it.
func New(opts ...Option) (*Observer, error) {
	c := config{}
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: otelcallcrm.New: option %d is nil", webhook.ErrInvalidOption, i)
		}
		if err := opt(&c); err != nil {
			return nil, err
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.prop == nil {
		c.prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	o := &Observer{
		tracer: c.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version), trace.WithSchemaURL(semconv.SchemaURL)),
		prop:   c.prop,
		tenant: c.tenant,
	}
	for k := range o.kinds {
		o.kinds[k] = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKind(k))}
	}
	meter := c.mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version), metric.WithSchemaURL(semconv.SchemaURL))
	if err := o.inst.init(meter); err != nil {
		return nil, fmt.Errorf("otelcallcrm.New: creating instruments: %w", err)
	}
	if c.depth != nil {
		depth := c.depth
		reg, err := meter.RegisterCallback(func(ctx context.Context, obs metric.Observer) error {
			n, err := depth(ctx)
			if err != nil {
				return fmt.Errorf("otelcallcrm: inbox depth: %w", err)
			}
			obs.ObserveInt64(o.inst.inboxDepth, n)
			return nil
		}, o.inst.inboxDepth)
		if err != nil {
			return nil, fmt.Errorf("otelcallcrm.New: registering the inbox depth callback: %w", err)
		}
		o.reg = reg
	}
	return o, nil
}

// Version is the adapter's instrumentation version.
const Version = "0.1.0"

// Close stops reporting the inbox depth (WithInboxDepth). Spans and
// metrics recorded afterwards still go to the providers; flushing and
// shutting those down is their owner's job. Close is idempotent.
func (o *Observer) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.reg == nil {
		o.closed = true
		return nil
	}
	o.closed = true
	return o.reg.Unregister()
}

// Inject returns ctx's trace context (and baggage) as the string map an
// inbox stores with a delivery, or nil when ctx carries none.
func (o *Observer) Inject(ctx context.Context) map[string]string {
	c := propagation.MapCarrier{}
	o.prop.Inject(ctx, c)
	if len(c) == 0 {
		return nil
	}
	return c
}

// Extract returns ctx continuing the trace Inject stored; an empty or
// invalid carrier returns ctx unchanged, and so does a carrier of the
// trace ctx already runs in (a job's span started from an earlier
// Extract stays the parent of what follows).
func (o *Observer) Extract(ctx context.Context, carrier map[string]string) context.Context {
	if len(carrier) == 0 {
		return ctx
	}
	out := o.prop.Extract(ctx, propagation.MapCarrier(carrier))
	if cur := trace.SpanContextFromContext(ctx); cur.IsValid() && !cur.IsRemote() &&
		cur.TraceID() == trace.SpanContextFromContext(out).TraceID() {
		return ctx
	}
	return out
}

// recordError marks span failed with err's message, and only its message:
// no stack trace and no error value formatting beyond Error(). The SDK's
// errors are secret-free by contract.
func recordError(span trace.Span, err error, fallback string) {
	msg := fallback
	if err != nil {
		msg = errorMessage(err)
		span.AddEvent("exception", trace.WithAttributes(semconv.ExceptionMessageKey.String(msg)))
	}
	span.SetStatus(codes.Error, msg)
}

// errorMessage is err's message as spans record it: valid UTF-8, and
// with every URL in it cut to its scheme and host. A transport failure's
// error quotes its request's URL (net/http's *url.Error: Get
// "https://host/v1/core/recordings/rec_1?cursor=..."), whose path holds
// ids and whose query holds filters and cursors; the client's error
// names the route template ("GET /v1/core/recordings/{id}") already. An
// Error method that panics (a user's error with a nil cause) gives a
// message naming its type: the span still ends and the metrics count.
func errorMessage(err error) string {
	return validUTF8(redactURLs(errtext.Of(err)))
}

// redactURLs replaces each absolute URL in s ("scheme://" up to a space,
// a quote or the end) with its scheme and host, without user info.
func redactURLs(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		start := i // back over the scheme: a letter, then letters, digits, '+', '-', '.'
		for start > 0 && isSchemeByte(s[start-1]) {
			start--
		}
		for start < i && !isLetter(s[start]) {
			start++
		}
		rest := s[i+3:]
		end := strings.IndexAny(rest, urlEnd)
		if end < 0 {
			end = len(rest)
		}
		host := rest[:end]
		if j := strings.IndexAny(host, "/?#"); j >= 0 {
			host = host[:j]
		}
		if j := strings.LastIndexByte(host, '@'); j >= 0 {
			host = host[j+1:]
		}
		if start == i { // no scheme: "://" alone is not a URL
			b.WriteString(s[:i+3])
		} else {
			b.WriteString(s[:start])
			b.WriteString(s[start:i])
			b.WriteString("://")
			b.WriteString(host)
		}
		s = rest[end:]
		if start == i {
			s = rest
		}
		i = strings.Index(s, "://")
	}
	b.WriteString(s)
	return b.String()
}

// urlEnd are the bytes a URL in an error message ends at: white space,
// the quotes around it (%q) and brackets (not "[", an IPv6 host's).
const urlEnd = " \t\r\n\"'`<>(){}"

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSchemeByte(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// errorType is a bounded error.type value for a client call or attempt.
func errorType(status int, err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case status >= 400:
		return statusText(status)
	case err != nil:
		return "_OTHER"
	}
	return ""
}

// attrs is a small attribute list builder.
type attrs []attribute.KeyValue

func (a attrs) str(k attribute.Key, v string) attrs {
	if v == "" {
		return a
	}
	return append(a, k.String(validUTF8(v)))
}

// validUTF8 is s with each invalid UTF-8 sequence replaced by U+FFFD.
// Much of what the adapter records comes from a request (the tenant path
// segment, a vendor's header quoted in an error): OTLP carries strings as
// protobuf strings, which must be valid UTF-8, and one invalid string
// fails the marshalling of its whole batch, every other delivery's spans
// with it (and a Prometheus scrape refuses an invalid label value).
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
