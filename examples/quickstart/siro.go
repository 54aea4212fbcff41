package main

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"encoding/json"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

type printer func(format string, args ...any)

// The guide's kitchen-remodel example.
func kitchenRemodel() (*siro.SyncOpportunity, *siro.SyncEngagement) {
	rep := siro.SyncUser{ExternalID: "rep-123-from-your-crm", Email: "rep-123@kitchenremodel.com", Name: "John Sales"}
	opp := &siro.SyncOpportunity{
		ExternalID: "opp-101", Name: "Smith Kitchen Remodel", Amount: siro.Ptr(45000.0), Disposition: siro.DispositionOpen,
		Account:          &siro.SyncAccount{ExternalID: "account-789", Name: "Smith Residence", PhoneNumbers: []string{"+18005551212"}},
		OpportunityUsers: []siro.SyncUser{rep},
	}
	start := time.Date(2026, 2, 15, 14, 0, 0, 0, time.UTC)
	eng := &siro.SyncEngagement{
		ExternalID: "appt-456", Subject: "Smith Kitchen Remodel Consultation",
		StartTime: siro.At(start), EndTime: siro.At(start.Add(time.Hour)),
		EngagementType:  &siro.EngagementType{Name: "meeting", ActivityType: siro.ActivityMeeting},
		EngagementUsers: []siro.SyncUser{rep},
		Account:         &siro.SyncAccount{ExternalID: "account-789"},
		Opportunity:     &siro.SyncEngagementOpportunity{ExternalID: "opp-101"},
	}
	return opp, eng
}

// runSiro syncs the CRM records, receives the two webhooks and prints the
// write-back. Offline it uses sirotest; with SIRO_ORG_TOKEN it uses Siro.
func runSiro(ctx context.Context, step, say printer, getenv func(string) string) error {
	real := getenv("SIRO_ORG_TOKEN") != ""
	var (
		c    *siro.Client
		fake *sirotest.Server
		err  error
	)
	if real {
		step("Siro: using the real API (SIRO_ORG_TOKEN is set)")
		opts := []siro.Option{siro.WithOrgToken(getenv("SIRO_ORG_TOKEN"))}
		if id := getenv("SIRO_OAUTH_CLIENT_ID"); id != "" {
			opts = append(opts, siro.WithOAuthApp(id, getenv("SIRO_OAUTH_CLIENT_SECRET"), getenv("SIRO_USER_ID"), siro.ScopeRead))
		}
		if c, err = siro.NewClient(opts...); err != nil {
			return err
		}
	} else {
		fake = sirotest.New()
		defer fake.Close()
		clientID, clientSecret := fake.CreateOAuthApp()
		if c, err = fake.Client(siro.WithOAuthApp(clientID, clientSecret, "siro-user-1", siro.ScopeRead)); err != nil {
			return err
		}
		step("Siro: using the embedded fake Siro (both hosts on %s and %s)", fake.OrgURL(), fake.UserURL())
	}

	// 1. CRM -> Siro.
	step("1. sync the account, the opportunity and the engagement (the guide's kitchen remodel)")
	opp, eng := kitchenRemodel()
	o, err := c.SyncOpportunity(ctx, opp)
	if err != nil {
		return err
	}
	say("opportunity %s -> Siro id %s (account %s synced with it)", opp.ExternalID, o.ID, opp.Account.ExternalID)
	e, err := c.SyncEngagement(ctx, eng)
	if err != nil {
		return err
	}
	say("engagement %s -> Siro id %s", eng.ExternalID, e.ID)
	link, _ := siro.LegacyRecordURL(eng.ExternalID, "Smith Kitchen Remodel", opp.ExternalID)
	say("rep's deep link: %s", link)

	if real {
		id := getenv("SIRO_RECORDING_ID")
		if id == "" {
			say("set SIRO_RECORDING_ID (and the SIRO_OAUTH_* variables) to print a recording's write-back")
			return nil
		}
		d, err := c.GetRecordingDetails(ctx, id, &siro.RecordingDetailsShow{ShowSummary: true, ShowEntityExtractions: true})
		if err != nil {
			return err
		}
		printWriteBack(say, &siro.ReadyRecording{Event: &siro.RecordingEvent{RecordingID: id}, Details: d})
		return nil
	}

	// 2. The receiver.
	var fired atomic.Int32
	var got *siro.ReadyRecording
	h, err := siro.NewHandler([]string{fake.WebhookSecret}, siro.Callbacks{
		Ready: func(ctx context.Context, r *siro.ReadyRecording) error {
			fired.Add(1)
			got = r
			return nil
		},
		FetchDetails: c,
	})
	if err != nil {
		return err
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	step("2. webhook receiver listening on %s (Svix verification on, raw body kept)", srv.URL)

	// 3. A conversation happens.
	rec, err := fake.Record(eng.ExternalID, sirotest.Conversation{
		Title: "Smith Kitchen Remodel Consultation", UserID: "siro-user-1",
		Summary: []siro.SummarySection{
			{ID: "s1", Name: "Overview", Content: "Homeowners want quartz counters and an island; ready to sign after the revised quote."},
			{ID: "s2", Name: "Next steps", Content: "Send the revised quote by Friday."},
		},
		Extractions: []siro.ExtractedField{
			{Name: "Budget", Value: json.RawMessage(`45000`), Mappings: []siro.CRMMapping{{CRMModelName: "Opportunity", CRMFieldName: "Amount"}}},
			{Name: "Decision timeline", Value: json.RawMessage(`"within 2 weeks"`), Mappings: []siro.CRMMapping{{CRMModelName: "Opportunity", CRMFieldName: "Close_Timeline__c"}}},
		},
	})
	if err != nil {
		return err
	}
	step("3. Siro records the conversation (%s) and delivers both webhooks out of order, one twice", rec.RecordingID)
	codes, err := fake.DeliverWebhooks(ctx, srv.URL, rec.RecordingID,
		sirotest.Delivery{Type: siro.EventRecordingLinked},
		sirotest.Delivery{Type: siro.EventRecordingProcessed, Times: 2})
	if err != nil {
		return err
	}
	say("deliveries: recordingLinked %d, recordingProcessed %d, redelivery %d", codes[0], codes[1], codes[2])

	// 4. The write-back.
	if fired.Load() != 1 || got == nil || got.Details == nil {
		return fmt.Errorf("the ready callback fired %d times, want 1 with details", fired.Load())
	}
	step("4. the recording is ready: fired once, summary and extractions fetched with a minted user token")
	printWriteBack(say, got)
	if got.Event.CRM == nil || got.Event.CRM.Engagement == nil || got.Event.CRM.Engagement.ExternalID != eng.ExternalID {
		return errors.New("the webhook did not carry the engagement's CRM id")
	}
	return nil
}

func printWriteBack(say printer, r *siro.ReadyRecording) {
	if crm := r.Event.CRM; crm != nil {
		if crm.Engagement != nil {
			say("CRM write-back -> engagement %s", crm.Engagement.ExternalID)
		}
		if crm.Opportunity != nil {
			say("CRM write-back -> opportunity %s", crm.Opportunity.ExternalID)
		}
	}
	say("summary: %q", r.Details.Summary)
	for _, x := range r.Details.EntityExtractions {
		for _, f := range x.Extraction {
			for _, m := range f.Mappings {
				say("field %s = %s -> %s.%s", f.Name, f, m.CRMModelName, m.CRMFieldName)
			}
		}
	}
}
