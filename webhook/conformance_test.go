package webhook_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestMiddlewareConformance runs the conformance suite on the generic
// Middleware (HMAC, keyed by the body's "id"), the receiver a user builds
// for a sender this module does not know.
func TestMiddlewareConformance(t *testing.T) {
	const secret = "generic-conformance-secret"
	v, err := webhook.NewHMAC("X-Signature", "sha256=", secret)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := webhook.NewHMACSigner("X-Signature", "sha256=", secret)
	if err != nil {
		t.Fatal(err)
	}
	mw := func(opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
		return webhook.Middleware(v, append(opts, webhook.WithKey(webhook.JSONKey("id")))...)
	}
	webhooktest.Conformance(t, webhooktest.Subject{
		New:        webhooktest.NewFromMiddleware(mw),
		Middleware: mw,
		Sign: func(body []byte) http.Header {
			h := http.Header{"Content-Type": {"application/json"}}
			_ = signer.SignHeader(h, body)
			return h
		},
		Body: func(id string) []byte {
			b, _ := json.Marshal(map[string]string{"id": id, "type": "thing.happened"})
			return b
		},
		Untimed: true,
		Secret:  secret,
	})
}
