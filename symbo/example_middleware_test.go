package symbo_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
)

// Verify and deduplicate Symbo deliveries in front of your own handler.
func ExampleMiddleware() {
	mw, err := symbo.Middleware([]string{"abcdefg"})
	if err != nil {
		log.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, _ := symbo.EventFrom(r.Context()) // verified; r.Body holds the raw bytes
		fmt.Println("handling", ev.Type, ev.Data.ID)
		w.WriteHeader(http.StatusNoContent) // a 2xx marks the event done
	}))

	s, _ := symbotest.NewSender("abcdefg")
	fmt.Println(s.Serve(h, []byte(symbotest.DocSample)))
	fmt.Println(s.Serve(h, []byte(symbotest.DocSample))) // the redelivery is acknowledged, not handled again
	// Output:
	// handling call:completed 2dc92583-0376-469b-9909-3a020b75d777
	// 204
	// 200
}
