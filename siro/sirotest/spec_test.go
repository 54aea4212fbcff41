package sirotest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/internal/spectest"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// newFake starts a fake whose every request and answer is validated
// against Siro's OpenAPI documents; a violation fails t when it ends.
func newFake(t testing.TB, opts ...sirotest.Option) (*sirotest.Server, *spectest.Validator) {
	t.Helper()
	v, err := spectest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	fake := sirotest.New(append(opts, sirotest.WithMiddleware(func(h siro.Host, next http.Handler) http.Handler {
		host := spectest.Org
		if h == siro.UserAPI {
			host = spectest.User
		}
		return v.Wrap(host, spectest.RequestsAndResponses, next)
	}))...)
	t.Cleanup(func() {
		fake.Close()
		testkit.ReportFirst(t, "Siro's OpenAPI document rejects", v.Violations())
		for _, e := range v.Unmet() {
			t.Errorf("expected a violation containing %q; the validator found none", e)
		}
	})
	return fake, v
}

// TestWebhookPayloadsConform checks the bodies the fake delivers against
// the webhooks document.
func TestWebhookPayloadsConform(t *testing.T) {
	spec, err := spectest.Load()
	if err != nil {
		t.Fatal(err)
	}
	fake, _ := newFake(t)
	c, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncEngagement(context.Background(), &siro.SyncEngagement{ExternalID: "appt-1",
		Opportunity: &siro.SyncEngagementOpportunity{ExternalID: "opp-1"}, Account: &siro.SyncAccount{ExternalID: "acct-1"}}); err != nil {
		t.Fatal(err)
	}
	rec, err := fake.Record("appt-1", sirotest.Conversation{UserID: "siro-user-1", Processed: true, Linked: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []siro.EventType{siro.EventRecordingProcessed, siro.EventRecordingLinked} {
		body, err := fake.Payload(rec.RecordingID, ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := spec.ValidateWebhook(body); err != nil {
			t.Errorf("%s: %v", ev, err)
		}
	}
	if err := spec.ValidateWebhook([]byte(`{"recordingId":7}`)); err == nil {
		t.Error("the webhook schema accepts a numeric recordingId")
	}
}
