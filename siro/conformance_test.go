package siro_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestConformance runs the webhook engine's conformance suite on Siro's
// receiver (Standard Webhooks signatures): the same checks every vendor
// package runs.
func TestConformance(t *testing.T) { webhooktest.Conformance(t, subject(t)) }

// TestStoredDeliveryCanBeReverified: what an inbox stores keeps the
// headers the signature needs, so the delivery can be verified again from
// storage (an audit), and no credential header.
func TestStoredDeliveryCanBeReverified(t *testing.T) { testkit.CheckStoredDelivery(t, subject(t)) }

// subject is this package's receiver as the webhook engine's conformance
// suite sees it.
func subject(t *testing.T) webhooktest.Subject {
	const secret = "whsec_Y29uZm9ybWFuY2Utc2lyby1zZWNyZXQtMDEyMzQ1Ng=="
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	signer := testkit.Must(webhook.NewStandardSigner(secret, webhook.WithSignatureClock(clk)))
	event := func(typ siro.EventType, id string) []byte {
		b, _ := json.Marshal(map[string]any{"recordingId": id, "siroUserId": "user-1", "recordingProcessed": true, "eventType": typ})
		return b
	}
	return testkit.Receiver(webhooktest.Subject{
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
		Body:        func(id string) []byte { return event(siro.EventRecordingProcessed, id) },
		Unknown:     func(id string) []byte { return event("integrations.recordingTeleported", id) },
		Clock:       clk,
		Timestamped: true,
		Secret:      secret,
	}, []string{secret}, siro.NewHandler, siro.Middleware, func(b webhooktest.Behaviour) siro.Callbacks {
		return siro.Callbacks{RecordingProcessed: func(ctx context.Context, e *siro.RecordingEvent) error { return b.Event(ctx, e.RecordingID) }, Unknown: b.Unknown}
	})
}
