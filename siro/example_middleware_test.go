package siro_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirotest"
)

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
