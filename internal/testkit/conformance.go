package testkit

import (
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Conformance runs the checks every vendor package runs on its receiver,
// as the vendor's test package describes it (callsynctest.Subject, ...,
// with secret as the signing secret): the webhook engine's conformance
// suite (webhooktest.Conformance) and CheckStoredDelivery (what an inbox
// stores keeps the headers the signature needs, so the delivery can be
// verified again from storage, and no credential header), each on a
// fresh subject whose fake clock starts at the same instant.
func Conformance(t *testing.T, secret string, subject func(secret string, clk *webhooktest.FakeClock) (webhooktest.Subject, error)) {
	fresh := func(t *testing.T) webhooktest.Subject {
		s, err := subject(secret, webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("Suite", func(t *testing.T) { webhooktest.Conformance(t, fresh(t)) })
	t.Run("StoredDeliveryCanBeReverified", func(t *testing.T) { CheckStoredDelivery(t, fresh(t)) })
}
