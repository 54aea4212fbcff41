package callsynctest

import (
	"context"
	"strings"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Subject describes CallSync's receiver to webhooktest.Conformance, with
// secret as its signing secret and clk as the clock of its deliveries'
// timestamps. New builds callsync.NewHandler, whose CallLogged callback
// reports the event's PayloadID to Behaviour.Event, and Middleware is
// callsync.Middleware; Sign signs as NewSender does, Body is a
// call_logged event (the documented sample) with payload_id id and
// Unknown an event CallSync does not send. Replace New and Middleware to
// check a receiver of your own that wraps CallSync's, or set Stores to
// check it on your dedupe store.
func Subject(secret string, clk *webhooktest.FakeClock) (webhooktest.Subject, error) {
	if err := testkit.NilClock("callsynctest", clk); err != nil {
		return webhooktest.Subject{}, err
	}
	snd, err := NewSender(secret)
	if err != nil {
		return webhooktest.Subject{}, err
	}
	event := func(typ callsync.EventType, id string) []byte {
		s := string(Sample(typ, id))
		return []byte(strings.Replace(s, "2026-04-28T11:58:13.000Z", clk.Now().UTC().Format(timestampLayout), 1))
	}
	deliveries := webhooktest.Subject{
		Sign:    snd.Sign,
		Body:    func(id string) []byte { return event(callsync.EventCallLogged, id) },
		Unknown: func(id string) []byte { return event("call_teleported", id) },
	}
	return testkit.VendorSubject(deliveries, secret, clk, callsync.NewHandler, callsync.Middleware, func(b webhooktest.Behaviour) callsync.Callbacks {
		return callsync.Callbacks{CallLogged: func(ctx context.Context, ev *callsync.Event) error { return b.Event(ctx, ev.PayloadID) }, Unknown: b.Unknown}
	}), nil
}
