package symbo_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestConformance runs the webhook engine's conformance suite on Symbo's
// receiver: the same checks every vendor package runs.
func TestConformance(t *testing.T) { webhooktest.Conformance(t, subject(t)) }

// TestStoredDeliveryCanBeReverified: what an inbox stores keeps the
// headers the signature needs, so the delivery can be verified again from
// storage (an audit), and no credential header.
func TestStoredDeliveryCanBeReverified(t *testing.T) { testkit.CheckStoredDelivery(t, subject(t)) }

// subject is this package's receiver as the webhook engine's conformance
// suite sees it.
func subject(t *testing.T) webhooktest.Subject {
	const secret = "symbo-conformance-secret"
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	return testkit.Receiver(webhooktest.Subject{
		Sign: testkit.Must(symbotest.NewSender(secret)).Sign,
		Body: func(id string) []byte {
			return symbotest.Event(id, symbo.EventCallCompleted, symbo.Call{ID: "call-" + id, CreatedAt: webhook.NewTime(clk.Now())})
		},
		Unknown: func(id string) []byte {
			b, _ := json.Marshal(map[string]any{"id": id, "object": "Widget", "description": "widget:spun", "created_at": clk.Now()})
			return b
		},
		Clock:       clk,
		Timestamped: true,
		Secret:      secret,
	}, []string{secret}, symbo.NewHandler, symbo.Middleware, func(b webhooktest.Behaviour) symbo.Callbacks {
		return symbo.Callbacks{CallCompleted: func(ctx context.Context, ev *symbo.CallEvent) error { return b.Event(ctx, ev.ID) }, Unknown: b.Unknown}
	})
}
