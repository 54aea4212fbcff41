package symbo_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestConformance runs the checks every vendor package runs
// (testkit.Conformance) on Symbo's receiver.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Vendor[symbo.Callbacks, *symbo.Handler]{
		Secret: "symbo-conformance-secret",
		Subject: func(secret string, clk *webhooktest.FakeClock) webhooktest.Subject {
			return webhooktest.Subject{
				Sign: testkit.Must(symbotest.NewSender(secret)).Sign,
				Body: func(id string) []byte {
					return symbotest.Event(id, symbo.EventCallCompleted, symbo.Call{ID: "call-" + id, CreatedAt: webhook.NewTime(clk.Now())})
				},
				Unknown: func(id string) []byte {
					b, _ := json.Marshal(map[string]any{"id": id, "object": "Widget", "description": "widget:spun", "created_at": clk.Now()})
					return b
				},
			}
		},
		NewHandler: symbo.NewHandler, Middleware: symbo.Middleware,
		Callbacks: func(b webhooktest.Behaviour) symbo.Callbacks {
			return symbo.Callbacks{CallCompleted: func(ctx context.Context, ev *symbo.CallEvent) error { return b.Event(ctx, ev.ID) }, Unknown: b.Unknown}
		},
	})
}
