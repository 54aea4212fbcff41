package sivo

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/receiverkit"
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
	// past SIVO's retry span (RetryHorizon).
	DefaultDedupeTTL = 24 * time.Hour
	// RetryHorizon is how long after an event's createdAt SIVO may still
	// retry it automatically: the waits of its product page's schedule
	// (5 s, 30 s, 2 min, 10 min, 1 h, 6 h: 7 h 12 min 35 s) plus six 10 s
	// delivery timeouts. (The webhooks docs page stops at the 1 h wait,
	// about 1 h 13 min; the longer of the two is used.) createdAt does
	// not change across retries, so webhook.WithTolerance must be at
	// least this long (NewHandler refuses a shorter one) and should add
	// your clock skew. A resend from SIVO's dead-letter queue (kept 30
	// days) older than the tolerance is refused 401 all the same.
	RetryHorizon = 7*time.Hour + 13*time.Minute + 35*time.Second
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

// routes is the one table from event type to callback: an event type is
// known when it is here.
var routes = map[EventType]func(*Callbacks) Func{
	EventCallCreated:     func(c *Callbacks) Func { return c.CallCreated },
	EventCallAnswered:    func(c *Callbacks) Func { return c.CallAnswered },
	EventCallTransferred: func(c *Callbacks) Func { return c.CallTransferred },
	EventCallEnded: func(c *Callbacks) Func {
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
	},
	EventCallRecorded:       func(c *Callbacks) Func { return c.CallRecorded },
	EventTranscriptSegment:  func(c *Callbacks) Func { return c.TranscriptSegment },
	EventTranscriptComplete: func(c *Callbacks) Func { return c.TranscriptComplete },
	EventQueueEntered:       func(c *Callbacks) Func { return c.QueueEntered },
	EventQueueAbandoned:     func(c *Callbacks) Func { return c.QueueAbandoned },
	EventAgentStatusChanged: func(c *Callbacks) Func { return c.AgentStatusChanged },
	EventAgentPaused:        func(c *Callbacks) Func { return c.AgentPaused },
	EventIVRCompleted:       func(c *Callbacks) Func { return c.IVRCompleted },
	EventAIAgentCompleted:   func(c *Callbacks) Func { return c.AIAgentCompleted },
	EventWebhookTest:        func(c *Callbacks) Func { return c.WebhookTest },
}

// Handler receives SIVO webhooks. It is an http.Handler; create it with
// NewHandler and stop it with Shutdown.
//
// It is the one webhook engine, configured for SIVO: see webhook.Receiver
// for its methods (ServeHTTP, Shutdown, Stats, Process). Shutdown answers
// new deliveries 503, so SIVO retries them; with WithInbox, shut the inbox
// down after the handler.
type Handler = webhook.Receiver

// receiver configures the webhook engine with SIVO's facts, for NewHandler
// (cb set) and Middleware (cb nil).
func receiver(where string, secrets []string, cb *Callbacks, opts []webhook.Option) (*webhook.Receiver, error) {
	rt := receiverkit.NewRouter(routes, cb, func(c *Callbacks) webhook.HandlerFunc { return c.Unknown })
	return receiverkit.Build(where, secrets, webhook.Spec[*Event]{
		Provider: "sivo",
		NewVerifier: func(s []string) (webhook.Verifier, error) {
			return webhook.NewHMAC(HeaderSignature, SignaturePrefix, s...)
		},
		MaxBodyBytes: MaxBodyBytes,
		MaxBodyLimit: MaxBodyBytes,
		Timeout:      DefaultTimeout,
		MaxTimeout:   DeliveryTimeout,
		DedupeTTL:    DefaultDedupeTTL,
		RetryHorizon: RetryHorizon,
		IDHeader:     HeaderEventID,
		Headers:      []string{HeaderEventID, HeaderEventType, HeaderSignature, "Content-Type"},
		Parse:        parse,
		Time: func(ev *Event) (time.Time, bool) {
			return ev.CreatedAt.Time, ev.CreatedAt.Valid
		},
		Handle: func(ctx context.Context, wev *webhook.Event, ev *Event, _ webhook.Once) error {
			_, err := rt.Route(ctx, wev, ev.Type, ev)
			return err
		},
	}, opts)
}

// parse decodes the envelope, checks the headers against it and names the
// delivery by X-Sivo-Event-Id (or the body's id).
func parse(wev *webhook.Event) (*Event, error) {
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
// further than that from now: replay protection, off by default; at least
// RetryHorizon, since SIVO's retries keep createdAt). A refused delivery
// is logged with its X-Sivo-Event-Id (unverified) as delivery_id.
func NewHandler(secrets []string, cb Callbacks, opts ...webhook.Option) (*Handler, error) {
	return receiver("NewHandler", secrets, &cb, opts)
}

// Middleware verifies and deduplicates SIVO deliveries in front of your
// own handler, which gets the verified body on r.Body and the event from
// EventFrom(r.Context()); a 2xx from it marks the event done, anything
// else lets SIVO's retry through.
func Middleware(secrets []string, opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
	return receiverkit.Middleware(receiver("Middleware", secrets, nil, opts))
}

// EventFrom returns the verified event Middleware put in the request
// context.
func EventFrom(ctx context.Context) (*Event, bool) {
	return webhook.ParsedAs[*Event](ctx)
}
