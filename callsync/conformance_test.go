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

// TestConformance runs the webhook engine's conformance suite on
// CallSync's receiver: the same checks every vendor package runs.
func TestConformance(t *testing.T) { webhooktest.Conformance(t, subject(t)) }

// TestStoredDeliveryCanBeReverified: what an inbox stores keeps the
// headers the signature needs, so the delivery can be verified again from
// storage (an audit), and no credential header.
func TestStoredDeliveryCanBeReverified(t *testing.T) { testkit.CheckStoredDelivery(t, subject(t)) }

// subject is this package's receiver as the webhook engine's conformance
// suite sees it.
func subject(t *testing.T) webhooktest.Subject {
	const secret = "callsync-conformance-secret"
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	event := func(typ callsync.EventType, id string) []byte {
		s := string(callsynctest.Sample(typ, id))
		return []byte(strings.Replace(s, "2026-04-28T11:58:13.000Z", clk.Now().UTC().Format(time.RFC3339Nano), 1))
	}
	return testkit.Receiver(webhooktest.Subject{
		Sign:        testkit.Must(callsynctest.NewSender(secret)).Sign,
		Body:        func(id string) []byte { return event(callsync.EventCallLogged, id) },
		Unknown:     func(id string) []byte { return event("call_teleported", id) },
		Clock:       clk,
		Timestamped: true,
		Secret:      secret,
	}, []string{secret}, callsync.NewHandler, callsync.Middleware, func(b webhooktest.Behaviour) callsync.Callbacks {
		return callsync.Callbacks{CallLogged: func(ctx context.Context, ev *callsync.Event) error { return b.Event(ctx, ev.PayloadID) }, Unknown: b.Unknown}
	})
}
