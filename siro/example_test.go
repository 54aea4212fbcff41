package siro_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// Sync one appointment (an engagement) with its deal and account.
func ExampleClient_SyncEngagement() {
	fake := sirotest.New() // in production: siro.NewClient(siro.WithOrgToken(os.Getenv("SIRO_ORG_TOKEN")))
	defer fake.Close()
	c, err := fake.Client()
	if err != nil {
		log.Fatal(err)
	}
	start := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	e, err := c.SyncEngagement(context.Background(), &siro.SyncEngagement{
		ExternalID: "appt-1001", Subject: "Kitchen remodel consultation",
		StartTime: siro.At(start), EndTime: siro.At(start.Add(90 * time.Minute)),
		EngagementType: &siro.EngagementType{Name: "In-home consultation", ActivityType: siro.ActivityAppointment},
		Account:        &siro.SyncAccount{ExternalID: "acct-501", Name: "Smith Residence"},
		Opportunity:    &siro.SyncEngagementOpportunity{ExternalID: "opp-2001", Disposition: siro.DispositionOpen},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(e.ExternalID, e.OpportunityID != "")
	// Output: appt-1001 true
}

// Sync a whole CRM export in batches under Siro's rate limit.
func ExampleClient_BulkSyncEngagements() {
	fake := sirotest.New()
	defer fake.Close()
	c, _ := fake.Client()
	var records []siro.SyncEngagement
	for i := 0; i < 250; i++ {
		records = append(records, siro.SyncEngagement{ExternalID: fmt.Sprintf("appt-%d", i)})
	}
	records[7].ExternalID = "" // a bad row: reported, not sent
	res, err := c.BulkSyncEngagements(context.Background(), records, siro.BulkOptions{
		BatchSize: 100, RequestsPerMinute: 60000,
		OnProgress: func(p siro.BulkProgress) {},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Synced, res.Failed, res.Requests)
	for _, f := range res.Failures() {
		fmt.Println(f.Index, f.Err)
	}
	// Output:
	// 249 1 3
	// 7 siro: Sync.Engagements: invalid request: externalId is required
}

// Read a recording's summary and extracted fields with a user token the
// client mints itself, when Siro says the recording is ready.
func ExampleNewHandler() {
	ctx := context.Background()
	fake := sirotest.New()
	defer fake.Close()
	clientID, clientSecret := fake.CreateOAuthApp()
	c, _ := fake.Client(siro.WithOAuthApp(clientID, clientSecret, "siro-user-1", siro.ScopeRead))
	_, _ = c.SyncEngagement(ctx, &siro.SyncEngagement{ExternalID: "appt-1001",
		Opportunity: &siro.SyncEngagementOpportunity{ExternalID: "opp-2001"}})

	h, err := siro.NewHandler([]string{fake.WebhookSecret}, siro.Callbacks{
		Ready: func(ctx context.Context, r *siro.ReadyRecording) error {
			fmt.Println("engagement", r.Event.CRM.Engagement.ExternalID, "opportunity", r.Event.CRM.Opportunity.ExternalID)
			fmt.Println("summary:", r.Details.Summary)
			for _, x := range r.Details.EntityExtractions {
				for _, f := range x.Extraction {
					fmt.Printf("%s = %s -> %s.%s\n", f.Name, f, f.Mappings[0].CRMModelName, f.Mappings[0].CRMFieldName)
				}
			}
			return nil
		},
		FetchDetails: c,
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	rec, _ := fake.Record("appt-1001", sirotest.Conversation{
		Summary:     []siro.SummarySection{{Name: "Next steps", Content: "Send the quartz quote"}},
		Extractions: []siro.ExtractedField{{Name: "Budget", Value: json.RawMessage(`25000`), Mappings: []siro.CRMMapping{{CRMModelName: "Opportunity", CRMFieldName: "Amount"}}}},
	})
	_, _ = fake.DeliverWebhooks(ctx, srv.URL, rec.RecordingID,
		sirotest.Delivery{Type: siro.EventRecordingLinked}, sirotest.Delivery{Type: siro.EventRecordingProcessed, Times: 2})
	// Output:
	// engagement appt-1001 opportunity opp-2001
	// summary: Next steps: Send the quartz quote
	// Budget = 25000 -> Opportunity.Amount
}

// Build the deep link that starts a recording from your CRM.
func ExampleRecordLink_URL() {
	u, _ := siro.RecordLink{Action: siro.RecordStart, Title: "Smith & Sons kitchen", RedirectURL: "https://crm.example.com/appt/1001"}.URL()
	fmt.Println(u)
	// Output: https://app.siro.ai/record?action=start&title=Smith%20%26%20Sons%20kitchen&redirectUrl=https%3A%2F%2Fcrm.example.com%2Fappt%2F1001
}

// Verify and deduplicate Siro's Svix deliveries in front of your own
// handler.
func ExampleMiddleware() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the endpoint's signing secret
	mw, err := siro.Middleware([]string{secret})
	if err != nil {
		log.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, _ := siro.EventFrom(r.Context()) // verified; r.Body holds the raw bytes
		fmt.Println("handling", ev.Type, ev.RecordingID, "processed:", ev.RecordingProcessed)
		w.WriteHeader(http.StatusNoContent) // a 2xx marks the svix-id done
	}))

	s, _ := sirotest.NewSender(secret)
	body := []byte(`{"recordingId":"rec-1","recordingProcessed":true,"recordingLinked":true,"eventType":"integrations.recordingProcessed"}`)
	fmt.Println(s.Serve(h, body))
	fmt.Println(s.Serve(h, body)) // the same svix-id again: acknowledged, not handled again
	// Output:
	// handling integrations.recordingProcessed rec-1 processed: true
	// 204
	// 200
}
