// Package sivotest signs and delivers SIVO events the way SIVO does, and
// replays SIVO's retry schedule against a handler on a fake clock, so you
// can prove a receiver processes every event exactly once without SIVO.
//
//	h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{CallEnded: onCallEnded})
//	if err != nil {
//		t.Fatal(err)
//	}
//	s, err := sivotest.NewSender(secret)
//	if err != nil {
//		t.Fatal(err)
//	}
//	ev, err := sivotest.CallEnded("evt_1", time.Now(), sivo.CallEnded{CallID: "call_1"})
//	if err != nil {
//		t.Fatal(err)
//	}
//	res := s.Replay(h, webhooktest.NewFakeClock(time.Now()), ev.Raw) // SIVO's retry schedule
package sivotest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Schedule is when SIVO attempts a delivery, each wait counted from the
// attempt before: immediately, then retries after 5 s, 30 s, 2 min,
// 10 min, 1 h and 6 h; after the last failure the event is
// dead-lettered. SIVO documents two schedules: its product page lists
// these six retries, its webhooks page stops at the 1 h wait (six
// attempts in all). The fake replays the longer one, as sivo.RetryHorizon
// assumes, so a receiver that forgets a delivery before SIVO's last
// retry fails its tests.
//
// Schedule is for reading: NewSender replays its own copy of SIVO's
// schedule, so changing this slice changes no Sender (build one with
// webhooktest.NewSender for another schedule).
var Schedule = slices.Clone(schedule)

// schedule is SIVO's schedule as NewSender replays it, out of reach of
// the tests that share the exported Schedule.
var schedule = []time.Duration{0, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour}

// deliveryTimeout is how long SIVO waits for an answer: "Timeout: 10
// seconds. If your endpoint is slower, it counts as failure."
const deliveryTimeout = 10 * time.Second

// NewSender returns a Sender for SIVO's HMAC secret: it sets
// X-Sivo-Signature, X-Sivo-Event-Id and X-Sivo-Event-Type (read from the
// body when it is an event envelope) and Content-Type, and replays
// Schedule. Its Deliver does not follow redirects: a 3xx is the
// delivery's answer, a failure SIVO retries ("No redirects — SIVO
// doesn't follow 3xx"), and gives up on an answer slower than 10 s with
// an error wrapping context.DeadlineExceeded ("Timeout: 10 seconds. If
// your endpoint is slower, it counts as failure").
func NewSender(secret string) (*webhooktest.Sender, error) {
	s, err := webhook.NewHMACSigner(sivo.HeaderSignature, sivo.SignaturePrefix, secret)
	if err != nil {
		return nil, err
	}
	return webhooktest.NewSender(func(h http.Header, body []byte) error {
		if ev, err := sivo.ParseEvent(body); err == nil {
			h.Set(sivo.HeaderEventID, ev.ID)
			h.Set(sivo.HeaderEventType, string(ev.Type))
		}
		return s.SignHeader(h, body)
	}, "/webhooks/sivo", schedule,
		webhooktest.NoRedirects(),                    // "No redirects — SIVO doesn't follow 3xx."
		webhooktest.DeliveryTimeout(deliveryTimeout), // "Timeout: 10 seconds."
	), nil
}

// DefaultTenantID is the tenantId of the events NewEvent builds.
const DefaultTenantID = "tenant-test"

// NewEvent builds an event envelope of tenant DefaultTenantID with data
// marshalled to JSON (NewTenantEvent for another tenant).
//
// It refuses what SIVO never sends: an empty id or type, a zero
// createdAt, or data that is not a JSON object; nil data is sent as {}.
func NewEvent(id string, typ sivo.EventType, createdAt time.Time, data any) (*sivo.Event, error) {
	return NewTenantEvent(DefaultTenantID, id, typ, createdAt, data)
}

// NewTenantEvent is NewEvent for the tenant tenantID (the envelope's
// tenantId), to test a receiver serving several SIVO tenants. tenantID
// must not be empty.
func NewTenantEvent(tenantID, id string, typ sivo.EventType, createdAt time.Time, data any) (*sivo.Event, error) {
	switch {
	case tenantID == "":
		return nil, errors.New("sivotest: tenant id is empty (SIVO's envelope always has tenantId)")
	case id == "":
		return nil, errors.New("sivotest: event id is empty (SIVO sends every event with an id, in X-Sivo-Event-Id too)")
	case typ == "":
		return nil, fmt.Errorf("sivotest: event %s has no type", id)
	case createdAt.IsZero():
		return nil, fmt.Errorf("sivotest: event %s has a zero createdAt", id)
	}
	raw := []byte("{}") // SIVO documents no event without data: nil is the empty object
	if data != nil {
		var err error
		if raw, err = marshal(data); err != nil {
			return nil, fmt.Errorf("sivotest: marshalling data: %w", err)
		}
	}
	switch raw[0] {
	case '{':
	case 'n': // a nil map, slice or pointer in an interface
		raw = []byte("{}")
	default:
		return nil, fmt.Errorf("sivotest: event %s: data is %.20s, not a JSON object", id, raw)
	}
	// SIVO writes createdAt with milliseconds: the event holds what its body says.
	at := createdAt.UTC().Truncate(time.Millisecond)
	ev := &sivo.Event{ID: id, Type: typ, CreatedAt: webhook.NewTime(at), TenantID: tenantID, Data: raw}
	var err error
	ev.Raw, err = marshal(ev)
	return ev, err
}

// marshal is json.Marshal writing "&", "<" and ">" as is, as SIVO's
// JSON.stringify does (Go escapes them), so a receiver that re-marshals
// the body before checking its signature fails against the fake as it
// would against SIVO.
func marshal(v any) ([]byte, error) { return testkit.MarshalJS(v, "") }

// CallEnded builds a call.ended event with the documented fields.
func CallEnded(id string, createdAt time.Time, call sivo.CallEnded) (*sivo.Event, error) {
	return NewEvent(id, sivo.EventCallEnded, createdAt, call)
}

// SizedCallEnded builds a call.ended event with id and createdAt whose
// data is a whole call detail record (every field of sivo.CallEnded set),
// padded with a "notes" field so the body is about size bytes: a delivery
// of a real CDR's size (about 1 KiB) for benchmarks and load tests.
func SizedCallEnded(id string, createdAt time.Time, size int) (*sivo.Event, error) {
	return NewEvent(id, sivo.EventCallEnded, createdAt, map[string]any{
		"callId": "uuid-call", "direction": sivo.DirectionInbound, "from": "+34611222333", "to": "+34911234567",
		"duration_sec": 184, "agentId": "uuid-agent", "queueId": "uuid-queue", "mosScore": 4.3,
		"hangupCause": "NORMAL_CLEARING", "notes": strings.Repeat("x", max(size-330, 0)),
	})
}
