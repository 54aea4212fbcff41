package sivo_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
)

// Receive SIVO events: verified, deduplicated by X-Sivo-Event-Id, routed by type.
func ExampleNewHandler() {
	calls := webhook.NewLatest[string]() // latest state per call, whatever the arrival order
	h, err := sivo.NewHandler([]string{"sivo-secret-from-settings"}, sivo.Callbacks{
		CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
			calls.Update(c.CallID, ev.CreatedAt.Time, "ended")
			fmt.Printf("call %s from %s lasted %ds (%s)\n", c.CallID, c.From, c.DurationSec.Value, c.HangupCause)
			return nil // an error answers 500 and SIVO retries
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/sivo", h)

	// Test it the way SIVO delivers, twice: the duplicate is acknowledged, not re-processed.
	s, _ := sivotest.NewSender("sivo-secret-from-settings")
	ev, _ := sivotest.NewEvent("evt_1", sivo.EventCallEnded, time.Now(),
		sivo.CallEnded{CallID: "c-42", From: "+34611222333", DurationSec: webhook.Int{Value: 184, Valid: true}, HangupCause: "NORMAL_CLEARING"})
	fmt.Println(s.Serve(mux, ev.Raw))
	fmt.Println(s.Serve(mux, ev.Raw))
	// Output:
	// call c-42 from +34611222333 lasted 184s (NORMAL_CLEARING)
	// 200
	// 200
}

// Answer 200 as soon as an event is queued in memory; drain on shutdown.
// Use webhook/riverinbox for a queue that survives a crash.
func ExampleNewHandler_inbox() {
	inbox, err := webhook.NewMemoryInbox(1024, 4, webhook.WithInboxErrorHook(func(ev *webhook.Event, err error) {
		log.Printf("store %s for manual replay: %v", ev.ID, err) // SIVO will not retry it
	}))
	if err != nil {
		log.Fatal(err)
	}
	h, err := sivo.NewHandler([]string{"secret"}, sivo.Callbacks{
		CallCreated: func(ctx context.Context, ev *sivo.Event) error { return nil },
	}, webhook.WithInbox(inbox))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(h.Shutdown(ctx), inbox.Shutdown(ctx))
	// Output: <nil> <nil>
}

// Verify and deduplicate SIVO deliveries in front of your own handler.
func ExampleMiddleware() {
	mw, err := sivo.Middleware([]string{"sivo-secret-from-settings"})
	if err != nil {
		log.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, _ := sivo.EventFrom(r.Context()) // verified; r.Body holds the raw bytes
		fmt.Println("handling", ev.Type, ev.ID)
		w.WriteHeader(http.StatusNoContent) // a 2xx marks the event done
	}))

	s, _ := sivotest.NewSender("sivo-secret-from-settings")
	ev, _ := sivotest.NewEvent("evt_1", sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c-42"})
	fmt.Println(s.Serve(h, ev.Raw))
	fmt.Println(s.Serve(h, ev.Raw)) // the redelivery is acknowledged, not handled again
	// Output:
	// handling call.ended evt_1
	// 204
	// 200
}
