package callsync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestConformance runs the checks every vendor package runs
// (testkit.Conformance) on CallSync's receiver.
func TestConformance(t *testing.T) {
	testkit.Conformance(t, testkit.Vendor[callsync.Callbacks, *callsync.Handler]{
		Secret: "callsync-conformance-secret",
		Subject: func(secret string, clk *webhooktest.FakeClock) webhooktest.Subject {
			event := func(typ callsync.EventType, id string) []byte {
				s := string(callsynctest.Sample(typ, id))
				return []byte(strings.Replace(s, "2026-04-28T11:58:13.000Z", clk.Now().UTC().Format(time.RFC3339Nano), 1))
			}
			return webhooktest.Subject{
				Sign:    testkit.Must(callsynctest.NewSender(secret)).Sign,
				Body:    func(id string) []byte { return event(callsync.EventCallLogged, id) },
				Unknown: func(id string) []byte { return event("call_teleported", id) },
			}
		},
		NewHandler: callsync.NewHandler, Middleware: callsync.Middleware,
		Callbacks: func(b webhooktest.Behaviour) callsync.Callbacks {
			return callsync.Callbacks{CallLogged: func(ctx context.Context, ev *callsync.Event) error { return b.Event(ctx, ev.PayloadID) }, Unknown: b.Unknown}
		},
	})
}
