package main

import (
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
)

// callsyncVendor: hex HMAC-SHA256 of the raw body in X-CallSync-Signature;
// only call_logged's body is documented.
var callsyncVendor = &vendor{
	name:    "callsync",
	title:   "CallSync",
	scheme:  "X-CallSync-Signature = hex(HMAC-SHA256(secret, raw body)); no timestamp",
	headers: []string{callsync.HeaderSignature},
	retry:   "CallSync documents no retry; a resend is the same body (same payload_id), so the same signature",
	events: []event{
		{name: string(callsync.EventCallLogged)},
		{name: string(callsync.EventRecordingUpdated), note: "body not documented: call_logged's sample with this event name"},
		{name: string(callsync.EventAIAnalysis), note: "body not documented: call_logged's sample with this event name"},
		{name: string(callsync.EventCallerUpdated), note: "body not documented: call_logged's sample with this event name"},
	},
	newID: func() string { return randomID("wh_", 20) },
	build: func(ev, id string, step, _ int, now time.Time) (*object, error) {
		o := sample("callsync.json")
		o.set("event", ev)
		o.set("payload_id", id)
		o.set("timestamp", isoMillis(now.Add(time.Duration(step)*time.Second)))
		return o, nil
	},
	sequence: func(ev string) []string {
		return prefixSequence([]string{string(callsync.EventCallLogged), string(callsync.EventRecordingUpdated), string(callsync.EventAIAnalysis)}, ev)
	},
	sign:           bodySigner(callsynctest.NewSender),
	verifier:       hmacVerifier(callsync.HeaderSignature, ""),
	secretVariants: hmacSecretVariants,
}
