package symbotest

import (
	"context"
	"encoding/json"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Subject describes Symbo's receiver to webhooktest.Conformance, with
// secret as its signing secret and clk as the clock of its events'
// created_at. New builds symbo.NewHandler, whose CallCompleted callback
// reports the event's ID to Behaviour.Event, and Middleware is
// symbo.Middleware; Sign signs as NewSender does, Body is a
// call:completed event with id id and Unknown an object Symbo does not
// send. Replace New and Middleware to check a receiver of your own that
// wraps Symbo's, or set Stores to check it on your dedupe store.
func Subject(secret string, clk *webhooktest.FakeClock) (webhooktest.Subject, error) {
	if err := testkit.NilClock("symbotest", clk); err != nil {
		return webhooktest.Subject{}, err
	}
	snd, err := NewSender(secret)
	if err != nil {
		return webhooktest.Subject{}, err
	}
	deliveries := webhooktest.Subject{
		Sign: snd.Sign,
		Body: func(id string) []byte {
			return Event(id, symbo.EventCallCompleted, symbo.Call{ID: "call-" + id, CreatedAt: webhook.NewTime(clk.Now())})
		},
		Unknown: func(id string) []byte {
			b, _ := json.Marshal(map[string]any{"id": id, "object": "Widget", "description": "widget:spun", "created_at": clk.Now()})
			return b
		},
	}
	return testkit.VendorSubject(deliveries, secret, clk, symbo.NewHandler, symbo.Middleware, func(b webhooktest.Behaviour) symbo.Callbacks {
		return symbo.Callbacks{CallCompleted: func(ctx context.Context, ev *symbo.CallEvent) error { return b.Event(ctx, ev.ID) }, Unknown: b.Unknown}
	}), nil
}
