package symbo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/receiverkit"
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
// CallCompleted, like "call:completed". ev.Type gives the canonical
// type either way, and ev.Description the name as sent.
type Callbacks struct {
	CallCreated            Func
	CallCompleted          Func
	CallUpdated            Func
	CallRecordingCompleted Func
	// Call receives every call event whose own callback above is nil,
	// with the canonical event type in ev.Type: bind it alone to see
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
//
// It is the one webhook engine, configured for Symbo: see webhook.Receiver
// for its methods (ServeHTTP, Shutdown, Stats, Process).
type Handler = webhook.Receiver

type envelope struct {
	ID          string          `json:"id"`
	Object      string          `json:"object"`
	Description string          `json:"description"`
	Event       string          `json:"event"`
	Data        json.RawMessage `json:"data"`
}

// revision is what tells two events with one envelope id apart: the
// object's id, state and change times, as sent.
type revision struct {
	ID             json.RawMessage `json:"id"`
	State          json.RawMessage `json:"state"`
	UpdatedAt      json.RawMessage `json:"updated_at"`
	StateChangedAt json.RawMessage `json:"state_changed_at"`
}

// DeliveryKey returns the key a Symbo event is processed once under:
// the envelope id, then a hash of the normalised event name and the
// object's id, state, updated_at and state_changed_at as sent. Symbo
// documents an envelope id, tells you to keep the call id "to receive
// updates to the call object", and sends call:updated for every change
// to a call (note, disposition, recording, transcription), each with a
// new updated_at. So a redelivery (same id, event, call and revision) is
// a duplicate, while an event reusing an id for another event name,
// another call or a later revision of the call is processed, never
// acknowledged and dropped. Other envelope fields (created_at) are left
// out. A body without an id is keyed by its hash.
func DeliveryKey(body []byte) (string, error) {
	if ev, ok := decodeCall(body); ok {
		return ev.key(body), nil
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return "", fmt.Errorf("symbo: decoding event: %w", err)
	}
	return deliveryKey(&env, body), nil
}

// decodeCall decodes body as a call event in one pass (the common case);
// ok is false for other objects and for bodies that do not decode.
func decodeCall(body []byte) (*CallEvent, bool) {
	var ev CallEvent
	if ev.decode(body) != nil {
		return nil, false
	}
	if _, isCall := routes[ev.Type]; !isCall {
		return nil, false
	}
	ev.Raw = body
	return &ev, true
}

// key is DeliveryKey for a call event decoded from body: the revision
// fields are re-encoded from the decoded call (a decoded webhook.Time
// writes back the text it received, or null), so the body is decoded
// once. The hashed text is json.Marshal's, built on the stack.
func (e *CallEvent) key(body []byte) string {
	if e.ID == "" {
		return webhook.BodyHash(body)
	}
	var stack [256]byte
	b := append(stack[:0], '[')
	b = appendJSONString(b, string(e.Type))
	for _, v := range [...]string{e.Data.ID, e.Data.State} {
		b = appendJSONString(append(b, ','), v)
	}
	for _, t := range [...]*webhook.Time{&e.Data.UpdatedAt, &e.Data.StateChangedAt} {
		b = append(b, ',')
		if t.Raw == "" {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, t.Raw)
		}
	}
	return sumKey(e.ID, append(b, ']'))
}

// appendJSONString appends s as json.Marshal writes it: as is when it
// needs no escaping (the common case), else through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// sumKey is id, ":" and the hex of the first 8 bytes of parts' SHA-256.
func sumKey(id string, parts []byte) string {
	sum := sha256.Sum256(parts)
	var h [16]byte
	hex.Encode(h[:], sum[:8])
	return id + ":" + string(h[:])
}

func deliveryKey(env *envelope, body []byte) string {
	if env.ID == "" {
		return webhook.BodyHash(body)
	}
	var rev revision
	_ = json.Unmarshal(env.Data, &rev) // a data that is not an object adds nothing
	name := env.Description
	if name == "" {
		name = env.Event
	}
	return keyOf(env.ID, NormalizeEvent(name), rev)
}

func keyOf(id string, typ EventType, rev revision) string {
	parts, _ := json.Marshal([]any{typ, rev.ID, rev.State, rev.UpdatedAt, rev.StateChangedAt})
	return sumKey(id, parts)
}

// receiver configures the webhook engine with Symbo's facts, for NewHandler
// (cb set) and Middleware (cb nil).
func receiver(where string, secrets []string, cb *Callbacks, opts []webhook.Option) (*webhook.Receiver, error) {
	rt := receiverkit.NewRouter(routes, cb, func(c *Callbacks) webhook.HandlerFunc { return c.Unknown })
	return receiverkit.Build(where, secrets, webhook.Spec[*CallEvent]{
		Provider:    "symbo",
		NewVerifier: func(s []string) (webhook.Verifier, error) { return webhook.NewHMAC(HeaderSignature, "", s...) },
		Timeout:     DefaultTimeout,
		DedupeTTL:   DefaultDedupeTTL,
		Headers:     []string{HeaderSignature, "Content-Type"},
		Parse:       parse,
		Time: func(ev *CallEvent) (time.Time, bool) {
			if ev == nil {
				return time.Time{}, false
			}
			return ev.CreatedAt.Time, ev.CreatedAt.Valid
		},
		Handle: func(ctx context.Context, wev *webhook.Event, ev *CallEvent, _ webhook.Once) error {
			if ev == nil && EventType(wev.Type) == EventProspectCreated { // not a call event
				if cb == nil || cb.ProspectCreated == nil {
					return nil
				}
				return cb.ProspectCreated(ctx, wev)
			}
			var typ EventType
			if ev != nil {
				typ = ev.Type
			}
			_, err := rt.Route(ctx, wev, typ, ev)
			return err
		},
	}, opts)
}

// parse names the delivery by DeliveryKey and decodes call events; other
// objects keep their raw bytes and parse to nil.
func parse(wev *webhook.Event) (*CallEvent, error) {
	if ev, ok := decodeCall(wev.Raw); ok { // one decode in the common case
		wev.ID, wev.Type = ev.key(wev.Raw), string(ev.Type)
		return ev, nil
	}
	var env envelope
	if err := json.Unmarshal(wev.Raw, &env); err != nil {
		return nil, fmt.Errorf("symbo: decoding event: %w", err)
	}
	name := env.Description
	if name == "" {
		name = env.Event
	}
	wev.ID = deliveryKey(&env, wev.Raw)
	typ := NormalizeEvent(name)
	wev.Type = string(typ)
	if _, isCall := routes[typ]; !isCall {
		return nil, nil
	}
	return ParseCallEvent(wev.Raw) // a call event that does not decode: its error
}

// routes is the one table from call event type to callback: the event
// types decoded as a CallEvent are the ones here.
// A call event whose own callback is nil goes to Callbacks.Call.
var routes = map[EventType]func(*Callbacks) Func{
	EventCallCreated:            func(c *Callbacks) Func { return or(c.CallCreated, c.Call) },
	EventCallCompleted:          func(c *Callbacks) Func { return or(c.CallCompleted, c.Call) },
	EventCallUpdated:            func(c *Callbacks) Func { return or(c.CallUpdated, c.Call) },
	EventCallRecordingCompleted: func(c *Callbacks) Func { return or(c.CallRecordingCompleted, c.Call) },
}

// or returns f, or else when f is nil.
func or(f, orElse Func) Func {
	if f == nil {
		return orElse
	}
	return f
}

// NewHandler returns a Handler verifying X-Hmac-Signature over the raw body
// with secrets (the endpoint's webhook_secret; several during a rotation)
// and routing call events by their documented meaning, through the one
// webhook engine (see package webhook for the contract: 405, 413, 408,
// 401, 400; each event processed once under its DeliveryKey (envelope id,
// event name, call id and revision), a body without an id keyed by its
// hash; 500 on a callback error or panic; 504 at the deadline, 10 s by
// default). A malformed timestamp does not fail the event: it keeps its
// raw text and is listed by ev.UnparsedTimes().
//
// Options are package webhook's: WithLogger, WithDedupe, WithClock,
// WithMaxBodyBytes, WithErrorHook, WithTimeout, WithInbox, WithName,
// WithTolerance (refuse events whose created_at is further than that from
// now: the replay protection Symbo's validation article advises, off by
// default; note Symbo's own sample has a malformed created_at, and Symbo
// documents no retry schedule, so a tolerance shorter than its retries
// would refuse the late ones).
func NewHandler(secrets []string, cb Callbacks, opts ...webhook.Option) (*Handler, error) {
	return receiver("NewHandler", secrets, &cb, opts)
}

// Middleware verifies and deduplicates Symbo deliveries in front of your
// own handler, which gets the verified body on r.Body and, for call
// events, the event from EventFrom(r.Context()); a 2xx from it marks the
// delivery done.
func Middleware(secrets []string, opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
	return receiverkit.Middleware(receiver("Middleware", secrets, nil, opts))
}

// EventFrom returns the verified call event Middleware put in the request
// context (false for other objects: read webhook.EventFrom).
func EventFrom(ctx context.Context) (*CallEvent, bool) {
	ev, ok := webhook.ParsedAs[*CallEvent](ctx)
	return ev, ok && ev != nil
}

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
