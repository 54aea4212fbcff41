package sirotest

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Subject describes Siro's receiver to webhooktest.Conformance, with
// secret (a "whsec_" secret) as its signing secret and clk as the clock
// of its signed timestamps. New builds siro.NewHandler, whose
// RecordingProcessed callback reports the event's RecordingID to
// Behaviour.Event, and Middleware is siro.Middleware; Sign signs as
// Svix does (a retry of a message keeps its svix-id, here "msg_" and the
// recordingId), Body is an integrations.recordingProcessed event with
// recordingId id and Unknown an event Siro does not send. Replace New and
// Middleware to check a receiver of your own that wraps Siro's, or set
// Stores to check it on your dedupe store.
func Subject(secret string, clk *webhooktest.FakeClock) (webhooktest.Subject, error) {
	if err := testkit.NilClock("sirotest", clk); err != nil {
		return webhooktest.Subject{}, err
	}
	signer, err := webhook.NewStandardSigner(secret, webhook.WithSignatureClock(clk))
	if err != nil {
		return webhooktest.Subject{}, err
	}
	event := func(typ siro.EventType, id string) []byte {
		// The webhooks document's RecordingEventWebhookPayload requires
		// recordingLinked as well: "Every delivery carries the current state
		// of both flags regardless of which event triggered it" (quickstart).
		b, _ := json.Marshal(map[string]any{"recordingId": id, "siroUserId": "user-1", "recordingProcessed": true,
			"recordingLinked": false, "eventType": typ})
		return b
	}
	deliveries := webhooktest.Subject{
		Sign: func(body []byte) http.Header {
			var ev struct {
				RecordingID string `json:"recordingId"`
			}
			_ = json.Unmarshal(body, &ev)
			h := http.Header{"Content-Type": {"application/json"}, "Svix-Id": {"msg_" + ev.RecordingID}}
			_ = signer.SignHeader(h, body)
			return h
		},
		Body:    func(id string) []byte { return event(siro.EventRecordingProcessed, id) },
		Unknown: func(id string) []byte { return event("integrations.recordingTeleported", id) },
	}
	return testkit.VendorSubject(deliveries, secret, clk, siro.NewHandler, siro.Middleware, func(b webhooktest.Behaviour) siro.Callbacks {
		return siro.Callbacks{RecordingProcessed: func(ctx context.Context, e *siro.RecordingEvent) error { return b.Event(ctx, e.RecordingID) }, Unknown: b.Unknown}
	}), nil
}
