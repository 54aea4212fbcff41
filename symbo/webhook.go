package symbo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/webhook"
)

// HeaderSignature carries hex(HMAC-SHA256(webhook_secret, raw body)).
const HeaderSignature = "X-Hmac-Signature"

// Defaults for the receiver.
const (
	// DefaultDedupeTTL is how long processed event ids are remembered.
	// Symbo documents that it retries, not for how long.
	DefaultDedupeTTL = 72 * time.Hour
	// DefaultTimeout bounds a callback. Symbo documents no delivery
	// timeout; 10 s is a common sender timeout.
	DefaultTimeout = 10 * time.Second
)

// Func handles a call event; an error answers 500 so Symbo retries. (The
// same name as sivo.Func and callsync.Func.)
type Func func(ctx context.Context, ev *CallEvent) error

// Callbacks route events to functions; nil callbacks acknowledge.
//
// Routing follows each spelling's documented meaning: "call:created" (the
// webhooks guide) fires when a call is initiated and goes to CallCreated;
// "call.created" (the older "Integrate Custom CRM" article, whose sample
// uses it) "occurs immediately after a call is completed" and goes to
// CallCompleted, like "call:completed". ev.Event() gives the canonical
// name either way, and ev.Description the name as sent.
type Callbacks struct {
	CallCreated            Func
	CallCompleted          Func
	CallUpdated            Func
	CallRecordingCompleted Func
	// Call receives every call event whose own callback above is nil,
	// with the canonical event name in ev.Event(): bind it alone to see
	// everything an endpoint is subscribed to.
	Call Func
	// ProspectCreated receives the raw event: Symbo documents no Prospect
	// payload.
	ProspectCreated webhook.HandlerFunc
	// Unknown receives other event names with the raw bytes.
	Unknown webhook.HandlerFunc
}

// Handler receives Symbo webhooks. It is an http.Handler; create it with
// NewHandler and stop it with Shutdown.
type Handler struct {
	r *webhook.Receiver
}

type envelope struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	Description string `json:"description"`
	Event       string `json:"event"`
}

func spec(where string, secrets []string, cb *Callbacks) (webhook.Spec, error) {
	newVerifier := func(s []string) (webhook.Verifier, error) { return webhook.NewHMAC(HeaderSignature, "", s...) }
	var v webhook.Verifier // none: the secrets come from webhook.WithSecretSource
	if len(secrets) > 0 {
		var err error
		if v, err = newVerifier(secrets); err != nil {
			return webhook.Spec{}, opterr.Rewrap("symbo", where, err, len(secrets))
		}
	}
	return webhook.Spec{
		Provider:    "symbo",
		Verifier:    v,
		NewVerifier: newVerifier,
		Timeout:     DefaultTimeout,
		DedupeTTL:   DefaultDedupeTTL,
		Headers:     []string{"Content-Type"},
		Parse:       parse,
		Time: func(parsed any) (time.Time, bool) {
			if ev, ok := parsed.(*CallEvent); ok {
				return ev.CreatedAt.Time, ev.CreatedAt.Valid
			}
			return time.Time{}, false
		},
		Handle: func(ctx context.Context, wev *webhook.Event, parsed any, _ webhook.Once) error {
			if cb == nil {
				return nil
			}
			ev, isCall := parsed.(*CallEvent)
			if !isCall {
				if wev.Type == EventProspectCreated && cb.ProspectCreated != nil {
					return cb.ProspectCreated(ctx, wev)
				}
				if wev.Type != EventProspectCreated && cb.Unknown != nil {
					return cb.Unknown(ctx, wev)
				}
				return nil
			}
			var f Func
			switch ev.Event() {
			case EventCallCreated:
				f = cb.CallCreated
			case EventCallCompleted:
				f = cb.CallCompleted
			case EventCallUpdated:
				f = cb.CallUpdated
			case EventCallRecordingCompleted:
				f = cb.CallRecordingCompleted
			}
			if f == nil {
				f = cb.Call
			}
			if f == nil {
				return nil
			}
			return f(ctx, ev)
		},
	}, nil
}

// parse names the delivery by the event id and decodes call events; other
// objects keep their raw bytes.
func parse(wev *webhook.Event) (any, error) {
	var env envelope
	if err := json.Unmarshal(wev.Raw, &env); err != nil {
		return nil, fmt.Errorf("symbo: decoding event: %w", err)
	}
	name := env.Description
	if name == "" {
		name = env.Event
	}
	wev.ID = env.ID
	if wev.ID == "" {
		wev.ID = webhook.BodyHash(wev.Raw)
	}
	wev.Type = NormalizeEvent(name)
	if !isCallEvent(wev.Type) {
		return wev, nil
	}
	ev, err := ParseCallEvent(wev.Raw)
	if err != nil {
		return nil, err
	}
	return ev, nil
}

func isCallEvent(name string) bool {
	switch name {
	case EventCallCreated, EventCallCompleted, EventCallUpdated, EventCallRecordingCompleted:
		return true
	}
	return false
}

// NewHandler returns a Handler verifying X-Hmac-Signature over the raw body
// with secrets (the endpoint's webhook_secret; several during a rotation)
// and routing call events by their documented meaning, through the one
// webhook engine (see package webhook for the contract: 405, 413, 408,
// 401, 400; each event id processed once, a body without one keyed by its
// hash; 500 on a callback error or panic; 504 at the deadline, 10 s by
// default). A malformed timestamp does not fail the event: it keeps its
// raw text and is listed by ev.UnparsedTimes().
//
// Options are package webhook's: WithLogger, WithDedupe, WithClock,
// WithMaxBodyBytes, WithErrorHook, WithTimeout, WithInbox, WithName,
// WithTolerance (refuse events whose created_at is further than that from
// now: the replay protection Symbo's validation article advises, off by
// default; note Symbo's own sample has a malformed created_at).
func NewHandler(secrets []string, cb Callbacks, opts ...webhook.Option) (*Handler, error) {
	s, err := spec("NewHandler", secrets, &cb)
	if err != nil {
		return nil, err
	}
	r, err := webhook.NewReceiver(s, opts...)
	if err != nil {
		return nil, opterr.Rewrap("symbo", "NewHandler", err, len(secrets))
	}
	return &Handler{r: r}, nil
}

// Middleware verifies and deduplicates Symbo deliveries in front of your
// own handler, which gets the verified body on r.Body and, for call
// events, the event from EventFrom(r.Context()); a 2xx from it marks the
// delivery done.
func Middleware(secrets []string, opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
	s, err := spec("Middleware", secrets, nil)
	if err != nil {
		return nil, err
	}
	r, err := webhook.NewReceiver(s, opts...)
	if err != nil {
		return nil, opterr.Rewrap("symbo", "Middleware", err, len(secrets))
	}
	return r.Wrap, nil
}

// EventFrom returns the verified call event Middleware put in the request
// context (false for other objects: read webhook.EventFrom).
func EventFrom(ctx context.Context) (*CallEvent, bool) {
	return webhook.ParsedAs[*CallEvent](ctx)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.r.ServeHTTP(w, r) }

// Shutdown stops accepting deliveries (503) and waits for in-flight ones.
func (h *Handler) Shutdown(ctx context.Context) error { return h.r.Shutdown(ctx) }

// Stats returns the handler's counters.
func (h *Handler) Stats() webhook.Stats { return h.r.Stats() }

// CallStates keeps the latest state of each call by its id, whatever order
// created / completed / updated events arrive in. Safe for concurrent use.
type CallStates struct{ l *webhook.Latest[*CallEvent] }

// NewCallStates returns an empty CallStates.
func NewCallStates() *CallStates { return &CallStates{l: webhook.NewLatest[*CallEvent]()} }

// Apply records ev if it is newer than what is held for its call and
// reports whether it was applied (false: stale or unordered, dropped).
func (s *CallStates) Apply(ev *CallEvent) bool {
	if ev.Data.ID == "" {
		return false
	}
	v, ok := ev.Version()
	if !ok {
		return false
	}
	return s.l.Update(ev.Data.ID, v, ev)
}

// Get returns the latest event held for a call and its version time.
func (s *CallStates) Get(callID string) (*CallEvent, time.Time, bool) { return s.l.Get(callID) }
