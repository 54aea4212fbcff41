package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Event is one verified delivery: what a callback, an Unknown callback, a
// wrapped handler (EventFrom) and an Inbox see. Raw always holds the exact
// bytes that were verified (after gzip decoding).
type Event struct {
	// Provider is the vendor ("siro", "symbo", "callsync", "sivo", or
	// "webhook" for Middleware).
	Provider string
	// Receiver is the receiver's name (WithName; "default").
	Receiver string
	// ID is the vendor's delivery key (svix-id, X-Sivo-Event-Id, ...): the
	// dedupe key before namespacing.
	ID string
	// Type is the vendor's event type as sent.
	Type string
	// Raw is the verified body.
	Raw []byte
	// Header holds the request headers the vendor's parser and callbacks
	// read (all of them for Middleware).
	Header http.Header
	// Delivery is what verification established.
	Delivery Delivery
	// ReceivedAt is when the receiver read the delivery (its clock).
	ReceivedAt time.Time
	// Tenant is the account the delivery was addressed to, as resolved
	// from what the user configured (the URL path or the handler), never
	// from the unsigned request; "" for a receiver with fixed secrets.
	// Dedupe keys and inbox jobs are namespaced by it.
	Tenant string
	// Trace is the trace context of the request that received the
	// delivery (Observer.Inject), stored by an inbox with the event so
	// the job continues the request's trace; nil without an Observer.
	Trace map[string]string
}

// Decode unmarshals the raw body into v.
func (e *Event) Decode(v any) error { return json.Unmarshal(e.Raw, v) }

// DedupeKey is the key the receiver reserves for the delivery:
// "provider/receiver/d:id", with "t:tenant/" before "d:" for a receiver
// with a SecretSource. Second keys (Once) live under "o:" instead of "d:",
// so no vendor id can reach another delivery's or a second key's
// namespace, and one store can serve every receiver and tenant.
func (e *Event) DedupeKey() string { return e.keyPrefix() + "d:" + e.ID }

// onceKey is the namespaced key of a second key (Once).
func (e *Event) onceKey(key string) string { return e.keyPrefix() + "o:" + key }

func (e *Event) keyPrefix() string {
	if e.Tenant == "" {
		return e.Provider + "/" + e.Receiver + "/"
	}
	return e.Provider + "/" + e.Receiver + "/t:" + e.Tenant + "/"
}

// Once runs fn at most once per key across every delivery, replica and
// retry, with the same reserve / extend / commit-on-success /
// release-on-failure contract as deliveries; key is namespaced apart from
// delivery keys (see Event.DedupeKey). A key already done returns nil
// without calling fn; a key in progress elsewhere returns an error
// wrapping ErrInProgress (409, the sender retries). Vendor packages use it
// for second keys (Siro's "ready once per recording").
type Once func(ctx context.Context, key string, fn func(ctx context.Context) error) error

// Spec is what a vendor package tells the engine: its facts. Everything
// else (reading, verifying, deduping, deadlines, answering, logging,
// inboxes) the engine does the same way for every vendor.
//
// T is the vendor's parsed event type (usually a pointer, such as
// *sivo.Event): Parse returns it and Time and Handle receive it typed, so
// no vendor asserts types. Middleware's wrapped handler reads it back with
// ParsedAs[T].
type Spec[T any] struct {
	// Provider names the vendor in keys and logs.
	Provider string
	// Verifier checks the signature (the fixed-secrets case).
	Verifier Verifier
	// NewVerifier builds the vendor's Verifier from a list of secrets; the
	// engine calls it for the secrets a SecretSource returns (and caches
	// the result per tenant and secret list). Nil: the receiver cannot
	// take WithSecretSource.
	NewVerifier func(secrets []string) (Verifier, error)
	// MaxBodyBytes is the default body limit (0: DefaultMaxBodyBytes);
	// MaxBodyLimit, if set, is the most WithMaxBodyBytes may allow.
	MaxBodyBytes, MaxBodyLimit int64
	// Timeout is the default callback deadline; MaxTimeout, if set, is the
	// vendor's own delivery timeout, which an inline deadline must stay
	// under.
	Timeout, MaxTimeout time.Duration
	// DedupeTTL is how long the default in-memory store remembers a
	// processed delivery (longer than the vendor's retry span).
	DedupeTTL time.Duration
	// Headers lists the request headers kept on Event.Header (and stored
	// by an inbox); nil keeps every header.
	Headers []string
	// Parse decodes a verified event: it sets ev.ID (the delivery key) and
	// ev.Type and returns the vendor's typed event. An error answers 400.
	Parse func(ev *Event) (T, error)
	// Time returns the timestamp inside a parsed event, for WithTolerance
	// on vendors that sign none; nil when the vendor has none.
	Time func(parsed T) (time.Time, bool)
	// RetryHorizon is how long after an event's creation the vendor may
	// still deliver it by its documented retry schedule (0: not
	// documented). The body timestamp Time reads does not change across
	// retries, so NewReceiver refuses a WithTolerance shorter than this:
	// it would answer the vendor's late retries 401.
	RetryHorizon time.Duration
	// IDHeader names the request header carrying the vendor's delivery id
	// (X-Sivo-Event-Id, svix-id), if any: a delivery refused before it is
	// verified and parsed is logged with that (unverified) value as
	// delivery_id, to correlate with the vendor's delivery log.
	IDHeader string
	// Handle runs the user's callback for a parsed event.
	Handle func(ctx context.Context, ev *Event, parsed T, once Once) error
}

// erase turns a Spec[T] into the Spec[any] the engine runs: the one place
// where the parsed event is boxed and asserted back to T.
func erase[T any](s Spec[T]) Spec[any] {
	if a, ok := any(s).(Spec[any]); ok {
		return a
	}
	out := Spec[any]{Provider: s.Provider, Verifier: s.Verifier, NewVerifier: s.NewVerifier,
		MaxBodyBytes: s.MaxBodyBytes, MaxBodyLimit: s.MaxBodyLimit, Timeout: s.Timeout, MaxTimeout: s.MaxTimeout,
		DedupeTTL: s.DedupeTTL, Headers: s.Headers, RetryHorizon: s.RetryHorizon, IDHeader: s.IDHeader}
	if s.Parse != nil {
		out.Parse = func(ev *Event) (any, error) { return s.Parse(ev) }
	}
	if s.Time != nil {
		out.Time = func(parsed any) (time.Time, bool) {
			t, ok := parsed.(T)
			if !ok {
				return time.Time{}, false
			}
			return s.Time(t)
		}
	}
	if s.Handle != nil {
		out.Handle = func(ctx context.Context, ev *Event, parsed any, once Once) error {
			t, ok := parsed.(T)
			if !ok {
				return fmt.Errorf("%w: %s parsed event is %T, not %T", ErrMalformed, s.Provider, parsed, t)
			}
			return s.Handle(ctx, ev, t, once)
		}
	}
	return out
}
