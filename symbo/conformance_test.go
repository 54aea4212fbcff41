package symbo_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestConformance runs the webhook engine's conformance suite on Symbo's
// receiver: the same checks every vendor package runs.
func TestConformance(t *testing.T) {
	const secret = "symbo-conformance-secret"
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	sender, err := symbotest.NewSender(secret)
	if err != nil {
		t.Fatal(err)
	}
	webhooktest.Conformance(t, webhooktest.Subject{
		New: func(b webhooktest.Behaviour, opts ...webhook.Option) (http.Handler, error) {
			return symbo.NewHandler([]string{secret}, symbo.Callbacks{
				CallCompleted: func(ctx context.Context, ev *symbo.CallEvent) error { return b.Event(ctx, ev.ID) },
				Unknown:       b.Unknown,
			}, opts...)
		},
		Middleware: func(opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
			return symbo.Middleware([]string{secret}, opts...)
		},
		Sign: sender.Sign,
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
	})
}
