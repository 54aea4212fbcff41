package webhooktest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestNewFromMiddleware runs the whole suite on the generic Middleware
// through NewFromMiddleware.
func TestNewFromMiddleware(t *testing.T) {
	const secret = "middleware-subject-secret"
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

// A NewFromMiddleware whose middleware cannot be built returns that error.
func TestNewFromMiddlewareError(t *testing.T) {
	_, err := webhooktest.NewFromMiddleware(func(...webhook.Option) (func(http.Handler) http.Handler, error) {
		return nil, webhook.ErrInvalidOption
	})(webhooktest.Behaviour{})
	if !errors.Is(err, webhook.ErrInvalidOption) {
		t.Fatalf("err = %v, want webhook.ErrInvalidOption", err)
	}
}
