package sivo_test

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestConformance runs the webhook engine's conformance suite on SIVO's
// receiver: the same checks every vendor package runs.
func TestConformance(t *testing.T) { webhooktest.Conformance(t, subject(t)) }

// TestStoredDeliveryCanBeReverified: what an inbox stores keeps the
// headers the signature needs, so the delivery can be verified again from
// storage (an audit), and no credential header.
func TestStoredDeliveryCanBeReverified(t *testing.T) { testkit.CheckStoredDelivery(t, subject(t)) }

// subject is this package's receiver as the webhook engine's conformance
// suite sees it.
func subject(t *testing.T) webhooktest.Subject {
	const secret = "sivo-conformance-secret"
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	event := func(id string, typ sivo.EventType) []byte {
		ev, err := sivotest.NewEvent(id, typ, clk.Now(), map[string]any{"callId": "call-" + id})
		if err != nil {
			t.Fatal(err)
		}
		return ev.Raw
	}
	return testkit.Receiver(webhooktest.Subject{
		Sign:         testkit.Must(sivotest.NewSender(secret)).Sign,
		Body:         func(id string) []byte { return event(id, sivo.EventCallEnded) },
		Unknown:      func(id string) []byte { return event(id, "call.teleported") },
		Clock:        clk,
		Timestamped:  true,
		Tolerance:    sivo.RetryHorizon,
		Secret:       secret,
		MaxBodyBytes: sivo.MaxBodyBytes,
	}, []string{secret}, sivo.NewHandler, sivo.Middleware, func(b webhooktest.Behaviour) sivo.Callbacks {
		return sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, _ *sivo.CallEnded) error { return b.Event(ctx, ev.ID) }, Unknown: b.Unknown}
	})
}
