package callsync_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestConformance runs the webhook engine's conformance suite on
// CallSync's receiver: the same checks every vendor package runs.
func TestConformance(t *testing.T) {
	const secret = "callsync-conformance-secret"
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	sender, err := callsynctest.NewSender(secret)
	if err != nil {
		t.Fatal(err)
	}
	event := func(typ callsync.EventType, id string) []byte {
		s := string(callsynctest.Sample(typ, id))
		return []byte(strings.Replace(s, "2026-04-28T11:58:13.000Z", clk.Now().UTC().Format(time.RFC3339Nano), 1))
	}
	webhooktest.Conformance(t, webhooktest.Subject{
		New: func(b webhooktest.Behaviour, opts ...webhook.Option) (http.Handler, error) {
			return callsync.NewHandler([]string{secret}, callsync.Callbacks{
				CallLogged: func(ctx context.Context, ev *callsync.Event) error { return b.Event(ctx, ev.PayloadID) },
				Unknown:    b.Unknown,
			}, opts...)
		},
		Middleware: func(opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
			return callsync.Middleware([]string{secret}, opts...)
		},
		Sign:        sender.Sign,
		Body:        func(id string) []byte { return event(callsync.EventCallLogged, id) },
		Unknown:     func(id string) []byte { return event("call_teleported", id) },
		Clock:       clk,
		Timestamped: true,
		Secret:      secret,
	})
}
