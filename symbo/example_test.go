package symbo_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
)

// Serve Symbo's contact lookup from your CRM.
func ExampleNewLookupHandler() {
	// Symbo signs its requests with the webhook secret (X-Hmac-Signature).
	h, err := symbo.NewLookupHandler([]string{"abcdefg"}, func(ctx context.Context, number string) (*symbo.Contact, error) {
		if number != "+18005551212" {
			return nil, symbo.ErrNoContact // 404
		}
		return &symbo.Contact{ExternalID: "12345", FirstName: "Sally", LastName: "Sample",
			Account: &symbo.Account{ExternalID: "9876", Name: "Sample Company"}}, nil
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	dialer, _ := symbotest.NewDialer("abcdefg") // dials the way Symbo does
	code, c, _ := dialer.Lookup(context.Background(), srv.URL, "+18005551212")
	fmt.Println(code, c.ExternalID, c.Account.Name)
	code, _, _ = dialer.Lookup(context.Background(), srv.URL, "+18005550000")
	fmt.Println(code)
	code, _, _ = symbotest.Lookup(context.Background(), srv.Client(), srv.URL, "+18005551212") // unsigned
	fmt.Println(code)
	// Output:
	// 200 12345 Sample Company
	// 404
	// 401
}

// Receive Symbo's call activity webhooks and keep the latest state per call.
// Call receives every call event; the sample is the older article's
// "call.created", which means the call was completed.
func ExampleNewHandler() {
	states := symbo.NewCallStates()
	h, err := symbo.NewHandler([]string{"abcdefg"}, symbo.Callbacks{
		Call: func(ctx context.Context, ev *symbo.CallEvent) error {
			states.Apply(ev)
			fmt.Println(ev.Type, ev.Data.Prospect.ExternalID, ev.Data.CallDisposition, ev.UnparsedTimes())
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	s, _ := symbotest.NewSender("abcdefg")
	fmt.Println(s.Serve(h, []byte(symbotest.DocSample)))
	// Output:
	// call:completed 12345 answered_positive [created_at]
	// 200
}

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
