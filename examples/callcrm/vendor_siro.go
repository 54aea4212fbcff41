package main

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
)

// siroVendor: Svix (Standard Webhooks) signatures over "id.timestamp.body"
// with a whsec_ secret; both events share one documented payload.
var siroVendor = &vendor{
	name:    "siro",
	title:   "Siro",
	scheme:  "Svix / Standard Webhooks: svix-id, svix-timestamp, svix-signature = v1,base64(HMAC-SHA256(whsec_ key, id.timestamp.body)); 5-minute tolerance",
	headers: []string{"Svix-Signature", "Webhook-Signature"},
	retry:   "Svix resends the same message (same svix-id and body) with a new svix-timestamp and signature",
	events: []event{
		{name: string(siro.EventRecordingProcessed)},
		{name: string(siro.EventRecordingLinked)},
	},
	newID: webhook.NewMessageID,
	build: func(ev, _ string, step, total int, _ time.Time) (*object, error) {
		o := sample("siro.json")
		o.set("eventType", ev)
		if step < total-1 {
			// Earlier in a sequence the other condition has not happened
			// yet: every delivery carries the current state of both flags.
			other := "recordingLinked"
			if ev == string(siro.EventRecordingLinked) {
				other = "recordingProcessed"
			}
			o.set(other, false)
		}
		return o, nil
	},
	sequence: func(ev string) []string {
		switch ev {
		case string(siro.EventRecordingProcessed):
			return []string{string(siro.EventRecordingLinked), string(siro.EventRecordingProcessed)}
		case string(siro.EventRecordingLinked):
			return []string{string(siro.EventRecordingProcessed), string(siro.EventRecordingLinked)}
		}
		return nil
	},
	sign: func(secret, id string, body []byte, now time.Time) (http.Header, error) {
		s, err := webhook.NewStandardSigner(secret)
		if err != nil {
			return nil, err
		}
		sig, err := s.Sign(id, now, body)
		if err != nil {
			return nil, err
		}
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("Svix-Id", id)
		h.Set("Svix-Timestamp", strconv.FormatInt(now.Unix(), 10))
		h.Set("Svix-Signature", sig)
		return h, nil
	},
	verifier: func(secret string, tolerance time.Duration, skipTime bool) (webhook.Verifier, error) {
		opts := []webhook.VerifierOption{webhook.WithSignatureTolerance(tolerance)}
		if skipTime {
			opts = []webhook.VerifierOption{webhook.InsecureSkipSignatureTimestamp()}
		}
		return webhook.NewStandard([]string{secret}, opts...)
	},
	secretVariants: func(secret string) map[string]string {
		out := map[string]string{}
		if t := strings.TrimSpace(secret); t != secret {
			out["with its surrounding white space removed"] = t
		}
		return out
	},
}
