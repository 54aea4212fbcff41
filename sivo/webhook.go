package sivo

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/webhook"
)

// Header names SIVO sends.
const (
	HeaderSignature = "X-Sivo-Signature"
	HeaderEventID   = "X-Sivo-Event-Id"
	HeaderEventType = "X-Sivo-Event-Type"
	// SignaturePrefix precedes the hex HMAC in HeaderSignature.
	SignaturePrefix = "sha256="
)

// Limits SIVO documents.
const (
	// MaxBodyBytes is SIVO's maximum body size (256 KB).
	MaxBodyBytes = 256 << 10
	// DeliveryTimeout is how long SIVO waits for an answer.
	DeliveryTimeout = 10 * time.Second
	// DefaultTimeout bounds a callback: inside SIVO's 10 s.
	DefaultTimeout = 8 * time.Second
	// DefaultDedupeTTL is how long processed event ids are remembered: well
	// past SIVO's retry span (about 1 h 15 min; 7 h by its product page).
	DefaultDedupeTTL = 24 * time.Hour
)

// Func handles an event; a non-nil error answers 500 so SIVO retries.
type Func func(ctx context.Context, ev *Event) error

// Callbacks route each event type to a function. A nil callback
// acknowledges its events.
type Callbacks struct {
	CallCreated        Func
	CallAnswered       Func
	CallTransferred    Func
	CallEnded          func(ctx context.Context, ev *Event, call *CallEnded) error
	CallRecorded       Func
	TranscriptSegment  Func
	TranscriptComplete Func
	QueueEntered       Func
	QueueAbandoned     Func
	AgentStatusChanged Func
	AgentPaused        Func
	IVRCompleted       Func
	AIAgentCompleted   Func
	// WebhookTest receives the test event SIVO sends when an endpoint is
	// saved; nil answers 200.
	WebhookTest Func
	// Unknown receives event types this package does not know (types SIVO
	// adds later), with the raw bytes on ev.Raw; nil acknowledges them.
	Unknown webhook.HandlerFunc
}

func (c *Callbacks) route(ev *Event) Func {
	switch ev.Type {
	case EventCallCreated:
		return c.CallCreated
	case EventCallAnswered:
		return c.CallAnswered
	case EventCallTransferred:
		return c.CallTransferred
	case EventCallEnded:
		if c.CallEnded == nil {
			return nil
		}
		return func(ctx context.Context, ev *Event) error {
			call, err := ev.CallEnded()
			if err != nil {
				return err
			}
			return c.CallEnded(ctx, ev, call)
		}
	case EventCallRecorded:
		return c.CallRecorded
	case EventTranscriptSegment:
		return c.TranscriptSegment
	case EventTranscriptComplete:
		return c.TranscriptComplete
	case EventQueueEntered:
		return c.QueueEntered
	case EventQueueAbandoned:
		return c.QueueAbandoned
	case EventAgentStatusChanged:
		return c.AgentStatusChanged
	case EventAgentPaused:
		return c.AgentPaused
	case EventIVRCompleted:
		return c.IVRCompleted
	case EventAIAgentCompleted:
		return c.AIAgentCompleted
	case EventWebhookTest:
		return c.WebhookTest
	}
	return nil
}

func (c *Callbacks) known(t EventType) bool {
	switch t {
	case EventCallCreated, EventCallAnswered, EventCallTransferred, EventCallEnded, EventCallRecorded,
		EventTranscriptSegment, EventTranscriptComplete, EventQueueEntered, EventQueueAbandoned,
		EventAgentStatusChanged, EventAgentPaused, EventIVRCompleted, EventAIAgentCompleted, EventWebhookTest:
		return true
	}
	return false
}

// Handler receives SIVO webhooks. It is an http.Handler; create it with
// NewHandler and stop it with Shutdown.
type Handler struct {
	r *webhook.Receiver
}

// spec is SIVO's facts for the webhook engine.
func spec(where string, secrets []string, cb *Callbacks) (webhook.Spec, error) {
	newVerifier := func(s []string) (webhook.Verifier, error) {
		return webhook.NewHMAC(HeaderSignature, SignaturePrefix, s...)
	}
	var v webhook.Verifier // none: the secrets come from webhook.WithSecretSource
	if len(secrets) > 0 {
		var err error
		if v, err = newVerifier(secrets); err != nil {
			return webhook.Spec{}, opterr.Rewrap("sivo", where, err, len(secrets))
		}
	}
	s := webhook.Spec{
		Provider:     "sivo",
		Verifier:     v,
		NewVerifier:  newVerifier,
		MaxBodyBytes: MaxBodyBytes,
		MaxBodyLimit: MaxBodyBytes,
		Timeout:      DefaultTimeout,
		MaxTimeout:   DeliveryTimeout,
		DedupeTTL:    DefaultDedupeTTL,
		Headers:      []string{HeaderEventID, HeaderEventType, "Content-Type"},
		Parse:        parse,
		Time: func(parsed any) (time.Time, bool) {
			ev := parsed.(*Event)
			return ev.CreatedAt.Time, ev.CreatedAt.Valid
		},
		Handle: func(ctx context.Context, wev *webhook.Event, parsed any, _ webhook.Once) error {
			if cb == nil {
				return nil
			}
			ev := parsed.(*Event)
			if !cb.known(ev.Type) {
				if cb.Unknown != nil {
					return cb.Unknown(ctx, wev)
				}
				return nil
			}
			if f := cb.route(ev); f != nil {
				return f(ctx, ev)
			}
			return nil
		},
	}
	return s, nil
}

// parse decodes the envelope, checks the headers against it and names the
// delivery by X-Sivo-Event-Id (or the body's id).
func parse(wev *webhook.Event) (any, error) {
	ev, err := ParseEvent(wev.Raw)
	if err != nil {
		return nil, err
	}
	if ht := wev.Header.Get(HeaderEventType); ht != "" && ht != string(ev.Type) {
		return nil, fmt.Errorf("sivo: %s is %q but the body's type is %q", HeaderEventType, ht, ev.Type)
	}
	if hid := wev.Header.Get(HeaderEventID); hid != "" && hid != ev.ID {
		return nil, fmt.Errorf("sivo: %s is %q but the body's id is %q", HeaderEventID, hid, ev.ID)
	}
	wev.ID, wev.Type = ev.ID, string(ev.Type)
	if ev.Type == EventCallEnded {
		// Decoded here, once, on the request's goroutine; a data error is
		// the callback's (500, SIVO retries), as if decoded there.
		ev.callEnded, ev.callEndedErr = ev.CallEnded()
	}
	return ev, nil
}

// NewHandler returns a Handler verifying X-Sivo-Signature with secrets
// (SIVO's HMAC secret as raw bytes; several during a rotation) and routing
// to cb through the one webhook engine (see package webhook for the whole
// contract):
//
//   - 405 for other methods, 413 over 256 KB, 408 for a body slower than
//     the read timeout, 401 for a bad or missing signature, 400 when
//     X-Sivo-Event-Type or X-Sivo-Event-Id disagree with the body or the
//     envelope does not decode. The data of a call.ended is decoded for
//     its callback: missing or undecodable data is the callback's error
//     (500, SIVO retries), and is acknowledged when CallEnded is nil.
//   - Each event id is processed once: a redelivery while the first runs
//     is answered 409 (SIVO retries), one after success 200 without
//     running the callback again; a failed callback (500) or a panic
//     (recovered, 500) is not marked done.
//   - Callbacks run under an 8 s deadline (WithTimeout; it must stay under
//     SIVO's 10 s); at the deadline SIVO gets 504 even if the callback
//     ignores its context.
//
// Options are package webhook's: WithLogger, WithDedupe, WithClock,
// WithMaxBodyBytes (at most 256 KB), WithErrorHook, WithTimeout,
// WithInbox, WithName, WithTolerance (refuse events whose createdAt is
// further than that from now: replay protection, off by default).
func NewHandler(secrets []string, cb Callbacks, opts ...webhook.Option) (*Handler, error) {
	s, err := spec("NewHandler", secrets, &cb)
	if err != nil {
		return nil, err
	}
	r, err := webhook.NewReceiver(s, opts...)
	if err != nil {
		return nil, opterr.Rewrap("sivo", "NewHandler", err, len(secrets))
	}
	return &Handler{r: r}, nil
}

// Middleware verifies and deduplicates SIVO deliveries in front of your
// own handler, which gets the verified body on r.Body and the event from
// EventFrom(r.Context()); a 2xx from it marks the event done, anything
// else lets SIVO's retry through.
func Middleware(secrets []string, opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
	s, err := spec("Middleware", secrets, nil)
	if err != nil {
		return nil, err
	}
	r, err := webhook.NewReceiver(s, opts...)
	if err != nil {
		return nil, opterr.Rewrap("sivo", "Middleware", err, len(secrets))
	}
	return r.Wrap, nil
}

// EventFrom returns the verified event Middleware put in the request
// context.
func EventFrom(ctx context.Context) (*Event, bool) {
	return webhook.ParsedAs[*Event](ctx)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.r.ServeHTTP(w, r) }

// Shutdown stops accepting deliveries (503, so SIVO retries) and waits for
// in-flight ones. With WithInbox, shut the inbox down after the handler.
func (h *Handler) Shutdown(ctx context.Context) error { return h.r.Shutdown(ctx) }

// Stats returns the handler's counters.
func (h *Handler) Stats() webhook.Stats { return h.r.Stats() }
