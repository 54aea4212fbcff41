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
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

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
var Schedule = []time.Duration{0, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour}

// NewSender returns a Sender for SIVO's HMAC secret: it sets
// X-Sivo-Signature, X-Sivo-Event-Id and X-Sivo-Event-Type (read from the
// body when it is an event envelope) and Content-Type, and replays
// Schedule.
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
	}, "/webhooks/sivo", Schedule), nil
}

// NewEvent builds an event envelope with data marshalled to JSON.
func NewEvent(id string, typ sivo.EventType, createdAt time.Time, data any) (*sivo.Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("sivotest: marshalling data: %w", err)
	}
	ev := &sivo.Event{ID: id, Type: typ, CreatedAt: webhook.NewTime(createdAt.UTC()), TenantID: "tenant-test", Data: raw}
	ev.Raw, err = json.Marshal(ev)
	return ev, err
}

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
