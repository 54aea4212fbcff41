package callsync_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
)

// Receive CallSync's call_logged events.
func ExampleNewHandler() {
	h, err := callsync.NewHandler([]string{"wh-secret"}, callsync.Callbacks{
		CallLogged: func(ctx context.Context, ev *callsync.Event) error {
			cd := ev.Data.CallDetails
			fmt.Printf("call %s with %s: %ds, contact %s\n", cd.CallID, ev.Data.Caller.Name, cd.DurationTotal.Value, ev.Data.Identity.ID)
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	s, _ := callsynctest.NewSender("wh-secret")
	fmt.Println(s.Serve(h, []byte(callsynctest.CallLoggedSample)))
	fmt.Println(s.Serve(h, []byte(callsynctest.CallLoggedSample))) // byte-identical redelivery: not processed again
	// Output:
	// call 88231 with John Doe: 124s, contact contact_9921
	// 200
	// 200
}

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
