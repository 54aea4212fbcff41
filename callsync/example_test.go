package callsync_test

import (
	"context"
	"fmt"
	"log"

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
