package webhook_test

import (
	"testing"

	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestMiddlewareConformance runs the conformance suite on the generic
// Middleware (HMAC, keyed by the body's "id"), the receiver a user builds
// for a sender this module does not know.
func TestMiddlewareConformance(t *testing.T) {
	s, err := webhooktest.MiddlewareSubject("X-Signature", "sha256=", "generic-conformance-secret")
	if err != nil {
		t.Fatal(err)
	}
	webhooktest.Conformance(t, s)
}
