package sirotest_test

import (
	"context"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// TestWithListenersServesOnTheGivenListeners: both hosts answer on the
// listeners given (as "callcrm fake siro" runs them), with the OpenAPI
// validation of newFake, and Close closes them.
func TestWithListenersServesOnTheGivenListeners(t *testing.T) {
	org, user := testkit.Listen(t), testkit.Listen(t)
	fake, _ := newFake(t, sirotest.WithListeners(org, user))
	if fake.OrgURL() != "http://"+org.Addr().String()+"/api-externalApi" || fake.UserURL() != "http://"+user.Addr().String() {
		t.Errorf("URLs %s and %s are not the given listeners' %s and %s", fake.OrgURL(), fake.UserURL(), org.Addr(), user.Addr())
	}
	ctx := context.Background()
	id, secret := fake.CreateOAuthApp()
	c, err := fake.Client(siro.WithOAuthApp(id, secret, "siro-user-1", siro.ScopeRead))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEntityExtractions(ctx, "missing"); err == nil {
		t.Error("the user host found a recording that does not exist")
	}
	fake.Close()
	testkit.CheckClosed(t, org, user)
}

// TestLatencyEndsWhenTheClientLeaves: with WithLatency, a request whose
// client gives up ends at once instead of sleeping out the latency, so
// Close (which waits for every request) returns; it used to wait the
// whole hour.
func TestLatencyEndsWhenTheClientLeaves(t *testing.T) {
	org, read := testkit.FirstRead(testkit.Listen(t))
	fake := sirotest.New(sirotest.WithLatency(time.Hour), sirotest.WithListeners(org, nil))
	testkit.AbandonedCallEnds(t, read, testkit.Get(fake.OrgURL()+"/v1/integrations/engagements"), fake.Close)
}

// TestLatencyEndsWhenAClientLeavesAPut: with WithLatency, a sync (a PUT
// with a JSON body) whose client gives up must end too, so Close
// returns; the fake waited before the handler read the body, and net/http
// notices a departed client only once the body is read, so Close waited
// out the whole latency.
func TestLatencyEndsWhenAClientLeavesAPut(t *testing.T) {
	org, read := testkit.FirstRead(testkit.Listen(t))
	fake := sirotest.New(sirotest.WithLatency(time.Hour), sirotest.WithListeners(org, nil))
	c, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	testkit.AbandonedCallEnds(t, read, func(ctx context.Context) error {
		_, err := c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1"})
		return err
	}, fake.Close)
}
