package siro_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestConformance runs the checks every vendor package runs
// (testkit.Conformance) on Siro's receiver (Standard Webhooks
// signatures).
func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Vendor[siro.Callbacks, *siro.Handler]{
		Secret: "whsec_Y29uZm9ybWFuY2Utc2lyby1zZWNyZXQtMDEyMzQ1Ng==",
		Subject: func(secret string, clk *webhooktest.FakeClock) webhooktest.Subject {
			signer := testkit.Must(webhook.NewStandardSigner(secret, webhook.WithSignatureClock(clk)))
			event := func(typ siro.EventType, id string) []byte {
				b, _ := json.Marshal(map[string]any{"recordingId": id, "siroUserId": "user-1", "recordingProcessed": true, "eventType": typ})
				return b
			}
			return webhooktest.Subject{
				// Svix sends the same svix-id on every retry of a message.
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
		},
		NewHandler: siro.NewHandler, Middleware: siro.Middleware,
		Callbacks: func(b webhooktest.Behaviour) siro.Callbacks {
			return siro.Callbacks{RecordingProcessed: func(ctx context.Context, e *siro.RecordingEvent) error { return b.Event(ctx, e.RecordingID) }, Unknown: b.Unknown}
		},
	})
}
