package webhooktest_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// A receiver of your own, built on the engine for a sender this module
// does not know: HMAC-signed JSON {"id", "type", "created"}.
func newAcmeReceiver(onThing func(ctx context.Context, id string) error, unknown webhook.HandlerFunc, opts ...webhook.Option) (*webhook.Receiver, error) {
	v, err := webhook.NewHMAC("X-Acme-Signature", "sha256=", "acme-secret")
	if err != nil {
		return nil, err
	}
	type event struct {
		ID, Type string
		Created  time.Time
	}
	return webhook.NewReceiver(webhook.Spec[any]{
		Provider: "acme",
		Verifier: v,
		Parse: func(ev *webhook.Event) (any, error) {
			var e event
			if err := json.Unmarshal(ev.Raw, &e); err != nil {
				return nil, err
			}
			ev.ID, ev.Type = e.ID, e.Type
			return &e, nil
		},
		Time: func(p any) (time.Time, bool) { return p.(*event).Created, true },
		Handle: func(ctx context.Context, ev *webhook.Event, p any, _ webhook.Once) error {
			if ev.Type == "thing.happened" {
				return onThing(ctx, ev.ID)
			}
			return unknown(ctx, ev)
		},
	}, opts...)
}

// Conformance checks a receiver against the whole receive contract. In
// your own tests call it from a Test function:
//
//	func TestConformance(t *testing.T) { webhooktest.Conformance(t, subject) }
//
// This example runs it through testing.RunTests so that it can print the
// result.
func ExampleConformance() {
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	signer, _ := webhook.NewHMACSigner("X-Acme-Signature", "sha256=", "acme-secret")
	body := func(typ string) func(id string) []byte {
		return func(id string) []byte {
			b, _ := json.Marshal(map[string]any{"id": id, "type": typ, "created": clk.Now()})
			return b
		}
	}
	subject := webhooktest.Subject{
		New: func(b webhooktest.Behaviour, opts ...webhook.Option) (http.Handler, error) {
			return newAcmeReceiver(b.Event, b.Unknown, opts...)
		},
		Sign: func(b []byte) http.Header {
			h := http.Header{"Content-Type": {"application/json"}}
			_ = signer.SignHeader(h, b)
			return h
		},
		Body:        body("thing.happened"),
		Unknown:     body("thing.teleported"),
		Clock:       clk,
		Timestamped: true,
		Secret:      "acme-secret",
	}
	// Quiet under go test -v, so that only the result is printed.
	if v := flag.Lookup("test.v"); v != nil {
		old := v.Value.String()
		_ = v.Value.Set("false")
		defer func() { _ = v.Value.Set(old) }()
	}
	ok := testing.RunTests(func(string, string) (bool, error) { return true, nil }, []testing.InternalTest{
		{Name: "TestConformance", F: func(t *testing.T) { webhooktest.Conformance(t, subject) }},
	})
	fmt.Println("conformant:", ok)
	// Output: conformant: true
}
