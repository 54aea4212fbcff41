package sivo_test

import (
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
)

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
