package testkit

import (
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Vendor is a vendor package's receiver as Conformance sees it: C is its
// Callbacks type and H its Handler.
type Vendor[C any, H http.Handler] struct {
	// Secret is the one signing secret.
	Secret string
	// Subject returns the vendor's deliveries for secret and clk: Sign,
	// Body and Unknown, and its limits (Tolerance, MaxBodyBytes) where it
	// has them. Conformance sets Clock, Timestamped, Secret, New and
	// Middleware.
	Subject func(secret string, clk *webhooktest.FakeClock) webhooktest.Subject
	// NewHandler and Middleware are the vendor's constructors.
	NewHandler func([]string, C, ...webhook.Option) (H, error)
	Middleware func([]string, ...webhook.Option) (func(http.Handler) http.Handler, error)
	// Callbacks wires a Behaviour into the vendor's typed callbacks (see
	// Receiver).
	Callbacks func(b webhooktest.Behaviour) C
}

// Conformance runs the checks every vendor package runs on its receiver:
// the webhook engine's conformance suite (webhooktest.Conformance) and
// CheckStoredDelivery (what an inbox stores keeps the headers the
// signature needs, so the delivery can be verified again from storage,
// and no credential header), each on a fresh subject whose fake clock
// starts at the same instant.
func Conformance[C any, H http.Handler](t *testing.T, v Vendor[C, H]) {
	subject := func() webhooktest.Subject {
		clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
		s := v.Subject(v.Secret, clk)
		s.Clock, s.Timestamped, s.Secret = clk, true, v.Secret
		return Receiver(s, []string{v.Secret}, v.NewHandler, v.Middleware, v.Callbacks)
	}
	t.Run("Suite", func(t *testing.T) { webhooktest.Conformance(t, subject()) })
	t.Run("StoredDeliveryCanBeReverified", func(t *testing.T) { CheckStoredDelivery(t, subject()) })
}
