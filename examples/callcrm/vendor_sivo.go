package main

import (
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
)

// sivoVendor: "sha256=" + hex HMAC-SHA256 of the raw body in
// X-Sivo-Signature, with X-Sivo-Event-Id and X-Sivo-Event-Type; only
// call.ended's data is documented.
var sivoVendor = &vendor{
	name:    "sivo",
	title:   "SIVO",
	scheme:  "X-Sivo-Signature = sha256=hex(HMAC-SHA256(secret, raw body)), with X-Sivo-Event-Id and X-Sivo-Event-Type; no timestamp",
	headers: []string{sivo.HeaderSignature},
	retry:   "SIVO retries the same event (same id, same body) after 5 s, 30 s, 2 min, 10 min, 1 h and 6 h (its product page; its webhooks page stops at 1 h), as sivotest.Schedule replays",
	events: func() []event {
		var out []event
		for _, t := range []sivo.EventType{sivo.EventCallCreated, sivo.EventCallAnswered, sivo.EventCallTransferred, sivo.EventCallEnded,
			sivo.EventCallRecorded, sivo.EventTranscriptSegment, sivo.EventTranscriptComplete, sivo.EventQueueEntered,
			sivo.EventQueueAbandoned, sivo.EventAgentStatusChanged, sivo.EventAgentPaused, sivo.EventIVRCompleted,
			sivo.EventAIAgentCompleted, sivo.EventWebhookTest} {
			e := event{name: string(t)}
			if t != sivo.EventCallEnded {
				e.note = "data not documented: call.ended's sample data in the documented envelope"
			}
			out = append(out, e)
		}
		return out
	}(),
	newID: func() string { return randomID("evt_", 26) },
	build: func(ev, id string, step, _ int, now time.Time) (*object, error) {
		o := sample("sivo.json")
		o.set("id", id)
		o.set("type", ev)
		o.set("createdAt", isoMillis(now.Add(time.Duration(step)*time.Second)))
		return o, nil
	},
	sequence: func(ev string) []string {
		return prefixSequence([]string{string(sivo.EventCallCreated), string(sivo.EventCallAnswered), string(sivo.EventCallEnded), string(sivo.EventCallRecorded)}, ev)
	},
	sign:           bodySigner(sivotest.NewSender),
	verifier:       hmacVerifier(sivo.HeaderSignature, sivo.SignaturePrefix),
	secretVariants: hmacSecretVariants,
}
