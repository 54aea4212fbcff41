package sivotest

import (
	"context"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Subject describes SIVO's receiver to webhooktest.Conformance, with
// secret as its signing secret and clk as the clock of its events'
// createdAt. New builds sivo.NewHandler, whose CallEnded callback reports
// the event's ID to Behaviour.Event, and Middleware is sivo.Middleware;
// Sign signs as NewSender does, Body is a call.ended event with id id and
// Unknown an event SIVO does not send. Tolerance is sivo.RetryHorizon and
// MaxBodyBytes sivo.MaxBodyBytes. Replace New and Middleware to check a
// receiver of your own that wraps SIVO's, or set Stores to check it on
// your dedupe store.
func Subject(secret string, clk *webhooktest.FakeClock) (webhooktest.Subject, error) {
	if err := testkit.NilClock("sivotest", clk); err != nil {
		return webhooktest.Subject{}, err
	}
	snd, err := NewSender(secret)
	if err != nil {
		return webhooktest.Subject{}, err
	}
	event := func(id string, typ sivo.EventType) []byte {
		return testkit.Must(NewEvent(id, typ, clk.Now(), map[string]any{"callId": "call-" + id})).Raw
	}
	deliveries := webhooktest.Subject{
		Sign:         snd.Sign,
		Body:         func(id string) []byte { return event(id, sivo.EventCallEnded) },
		Unknown:      func(id string) []byte { return event(id, "call.teleported") },
		Tolerance:    sivo.RetryHorizon,
		MaxBodyBytes: sivo.MaxBodyBytes,
	}
	return testkit.VendorSubject(deliveries, secret, clk, sivo.NewHandler, sivo.Middleware, func(b webhooktest.Behaviour) sivo.Callbacks {
		return sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, _ *sivo.CallEnded) error { return b.Event(ctx, ev.ID) }, Unknown: b.Unknown}
	}), nil
}
