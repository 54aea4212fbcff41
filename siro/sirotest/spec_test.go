package sirotest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/internal/spectest"
	"github.com/callcrm/callcrm-go/siro/sirotest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
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
	spec, fake, rec := syncedRecording(t, &siro.SyncEngagement{ExternalID: "appt-1",
		Opportunity: &siro.SyncEngagementOpportunity{ExternalID: "opp-1"}, Account: &siro.SyncAccount{ExternalID: "acct-1"}})
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

// syncedRecording loads the OpenAPI documents, syncs e to a new fake and
// records a processed, linked conversation on it.
func syncedRecording(t *testing.T, e *siro.SyncEngagement) (*spectest.Spec, *sirotest.Server, *sirotest.Recorded) {
	t.Helper()
	spec, err := spectest.Load()
	if err != nil {
		t.Fatal(err)
	}
	fake, _ := newFake(t)
	c, err := fake.Client()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SyncEngagement(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	rec, err := fake.Record(e.ExternalID, sirotest.Conversation{UserID: "siro-user-1", Processed: true, Linked: true})
	if err != nil {
		t.Fatal(err)
	}
	return spec, fake, rec
}

// clockedFake is newFake on a fake clock at 2026-11-24 09:00 UTC, with an
// org client on the same clock that does not retry.
func clockedFake(t testing.TB) (*sirotest.Server, *spectest.Validator, *webhooktest.FakeClock, *siro.Client) {
	t.Helper()
	clk := webhooktest.NewFakeClock(time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	fake, v := newFake(t, sirotest.WithClock(clk))
	c, err := fake.Client(siro.WithClock(clk), siro.WithRetry(siro.RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	return fake, v, clk, c
}

// userClient is a client of fake acting for siro-user-1 through a new
// OAuth app with scope, without retries.
func userClient(t testing.TB, fake *sirotest.Server, scope siro.Scope) *siro.Client {
	t.Helper()
	appID, secret := fake.CreateOAuthApp()
	c, err := fake.Client(siro.WithOAuthApp(appID, secret, "siro-user-1", scope), siro.WithRetry(siro.RetryPolicy{}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withEngagement is a fake, a client of it acting for siro-user-1 with
// scope (no retries), and the engagement appt-1 ("Visit") synced.
func withEngagement(t testing.TB, scope siro.Scope) (*sirotest.Server, *siro.Client) {
	t.Helper()
	fake, _ := newFake(t)
	c := userClient(t, fake, scope)
	if _, err := c.SyncEngagement(context.Background(), &siro.SyncEngagement{ExternalID: "appt-1", Subject: "Visit"}); err != nil {
		t.Fatal(err)
	}
	return fake, c
}

// TestSubjectBodyConforms checks the deliveries Subject builds for
// webhooktest.Conformance against the webhooks document: its
// RecordingEventWebhookPayload requires recordingId, recordingProcessed,
// recordingLinked and eventType, and the quickstart says "Every delivery
// carries the current state of both flags regardless of which event
// triggered it".
func TestSubjectBodyConforms(t *testing.T) {
	spec, err := spectest.Load()
	if err != nil {
		t.Fatal(err)
	}
	subj, err := sirotest.Subject("whsec_Y29uZm9ybWFuY2Utc2lyby1zZWNyZXQtMDEyMzQ1Ng==", webhooktest.NewFakeClock(time.Unix(1_800_000_000, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.ValidateWebhook(subj.Body("rec-1")); err != nil {
		t.Errorf("Body: %v", err)
	}
	if err := spec.ValidateWebhook(subj.Unknown("rec-2")); err != nil {
		t.Errorf("Unknown: %v", err)
	}
}

// TestWebhookCRMUsersFromSyncedEngagementUsers: the quickstart (vendor/000,
// 4.2) shows "users": [{ "id": "user-uuid", "externalId": "crm-user-123" }]
// in a delivery's crm block: "crm.users[] — linked External Users; id is
// Siro-internal for that user row, externalId is the id from your CRM",
// the users synced on the engagement ("include each rep's CRM identifiers
// on User payloads (externalId, email, and name)", 3.1). A fake whose
// deliveries never carry them lets a receiver that attributes a
// recording to its rep pass its tests and fail against Siro.
func TestWebhookCRMUsersFromSyncedEngagementUsers(t *testing.T) {
	spec, fake, rec := syncedRecording(t, &siro.SyncEngagement{ExternalID: "appt-456",
		EngagementUsers: []siro.SyncUser{{ExternalID: "rep-123-from-your-crm", Email: "rep-123@kitchenremodel.com", Name: "John Sales"}}})
	body, err := fake.Payload(rec.RecordingID, siro.EventRecordingLinked)
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.ValidateWebhook(body); err != nil {
		t.Fatal(err)
	}
	var ev siro.RecordingEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.CRM == nil || len(ev.CRM.Users) != 1 || ev.CRM.Users[0].ExternalID != "rep-123-from-your-crm" || ev.CRM.Users[0].ID == "" {
		t.Errorf("crm.users of %s: want the synced engagement user, with a Siro id and its externalId", body)
	}
}
