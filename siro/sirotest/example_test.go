package sirotest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

// A whole Siro round trip against the fake: sync an engagement, let the
// fake record a conversation for it, and receive both Svix-signed webhooks
// (one twice) on your own siro.NewHandler, which fetches the summary with a
// user token minted through the fake's OAuth app.
func Example() {
	ctx := context.Background()
	fake := sirotest.New()
	defer fake.Close()

	// fake.Client() alone has the org token only; Callbacks.FetchDetails needs a
	// user credential, so register an OAuth app and let the client mint.
	id, secret := fake.CreateOAuthApp()
	c, err := fake.Client(siro.WithOAuthApp(id, secret, "siro-user-1", siro.ScopeRead))
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 2, 15, 14, 0, 0, 0, time.UTC)
	if _, err := c.SyncEngagement(ctx, &siro.SyncEngagement{
		ExternalID: "appt-1", Subject: "Kitchen consultation",
		StartTime: siro.At(start), EndTime: siro.At(start.Add(time.Hour)),
	}); err != nil {
		panic(err)
	}

	var ready atomic.Int32
	h, err := siro.NewHandler([]string{fake.WebhookSecret}, siro.Callbacks{
		Ready: func(ctx context.Context, r *siro.ReadyRecording) error {
			ready.Add(1)
			target, _ := r.Event.EngagementExternalID()
			fmt.Printf("write back to %s: %s\n", target, r.Details.Summary)
			return nil
		},
		FetchDetails: c,
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	rec, err := fake.Record("appt-1", sirotest.Conversation{Title: "Kitchen consultation",
		Summary: []siro.SummarySection{{ID: "s1", Name: "Overview", Content: "Wants quartz counters."}}})
	if err != nil {
		panic(err)
	}
	codes, err := fake.DeliverWebhooks(ctx, srv.URL, rec.RecordingID,
		sirotest.Delivery{Type: siro.EventRecordingLinked},
		sirotest.Delivery{Type: siro.EventRecordingProcessed, Times: 2})
	if err != nil {
		panic(err)
	}
	fmt.Println("answers:", codes, "ready fired:", ready.Load())
	// Output:
	// write back to appt-1: Overview: Wants quartz counters.
	// answers: [200 200 200] ready fired: 1
}
