package sivo_test

import (
	"context"
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestConformance runs the checks every vendor package runs
// (testkit.Conformance) on SIVO's receiver.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Vendor[sivo.Callbacks, *sivo.Handler]{
		Secret: "sivo-conformance-secret",
		Subject: func(secret string, clk *webhooktest.FakeClock) webhooktest.Subject {
			event := func(id string, typ sivo.EventType) []byte {
				return testkit.Must(sivotest.NewEvent(id, typ, clk.Now(), map[string]any{"callId": "call-" + id})).Raw
			}
			return webhooktest.Subject{
				Sign:         testkit.Must(sivotest.NewSender(secret)).Sign,
				Body:         func(id string) []byte { return event(id, sivo.EventCallEnded) },
				Unknown:      func(id string) []byte { return event(id, "call.teleported") },
				Tolerance:    sivo.RetryHorizon,
				MaxBodyBytes: sivo.MaxBodyBytes,
			}
		},
		NewHandler: sivo.NewHandler, Middleware: sivo.Middleware,
		Callbacks: func(b webhooktest.Behaviour) sivo.Callbacks {
			return sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, _ *sivo.CallEnded) error { return b.Event(ctx, ev.ID) }, Unknown: b.Unknown}
		},
	})
}
