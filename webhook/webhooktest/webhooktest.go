// Package webhooktest has helpers for testing webhook receivers: a fake
// clock that verifiers, dedupers and the vendors' test senders accept.
package webhooktest

import (
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// FakeClock is a manually advanced clock, safe for concurrent use. Pass it
// to webhook.WithClock, webhook.WithDedupeClock and the provider options
// that take a clock.
type FakeClock = clock.Fake

// NewFakeClock returns a FakeClock set to t.
func NewFakeClock(t time.Time) *FakeClock { return clock.NewFake(t) }
