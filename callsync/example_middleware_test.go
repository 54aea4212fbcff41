package callsync_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
)

// Verify and deduplicate CallSync deliveries in front of your own handler.
func ExampleMiddleware() {
	mw, err := callsync.Middleware([]string{"wh-secret"})
	if err != nil {
		log.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, _ := callsync.EventFrom(r.Context()) // verified; r.Body holds the raw bytes
		fmt.Println("handling", ev.Type, ev.Data.CallDetails.CallID)
		w.WriteHeader(http.StatusNoContent) // a 2xx marks the event done
	}))

	s, _ := callsynctest.NewSender("wh-secret")
	fmt.Println(s.Serve(h, []byte(callsynctest.CallLoggedSample)))
	fmt.Println(s.Serve(h, []byte(callsynctest.CallLoggedSample))) // the redelivery is acknowledged, not handled again
	// Output:
	// handling call_logged 88231
	// 204
	// 200
}
