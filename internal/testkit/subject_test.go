package testkit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// Every vendor's Subject refuses a nil clock and an empty secret with an
// error naming it, and never panics.
func TestSubjectBadInput(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC))
	for pkg, subject := range map[string]func(string, *webhooktest.FakeClock) (webhooktest.Subject, error){
		"callsynctest": callsynctest.Subject, "sirotest": sirotest.Subject, "sivotest": sivotest.Subject, "symbotest": symbotest.Subject,
	} {
		t.Run(pkg, func(t *testing.T) {
			if _, err := subject("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", nil); err == nil || !strings.Contains(err.Error(), pkg+".Subject: the clock is nil") {
				t.Errorf("nil clock: %v", err)
			}
			if _, err := subject("", clk); err == nil {
				t.Errorf("empty secret: no error")
			}
			s, err := subject("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", clk)
			if err != nil || s.New == nil || s.Middleware == nil || s.Sign == nil || s.Body == nil {
				t.Errorf("valid input: %v (New, Middleware, Sign or Body missing)", err)
			}
		})
	}
}
