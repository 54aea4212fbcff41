package sivotest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// TestDeliverDoesNotFollowRedirects: SIVO's webhooks page (vendor/004,
// "Limits") says "No redirects — SIVO doesn't follow 3xx." A fake sender
// that follows a 307 to a handler answering 200 tells a test the event
// was delivered where SIVO would count a failure and retry. It must hold
// with the caller's own Client too (an HTTPS test server's).
func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/webhooks/sivo", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/webhooks/sivo", func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()

	ev, snd := callEndedAndSender(t, at)
	snd.Client = srv.Client()
	code, err := snd.Deliver(context.Background(), srv.URL+"/moved", ev.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusTemporaryRedirect || followed.Load() != 0 {
		t.Errorf("Deliver answered %d after %d followed redirects; SIVO doesn't follow 3xx: want 307, none followed", code, followed.Load())
	}
}

// callEndedAndSender returns a call.ended event sent at at and a SIVO
// Sender for the secret "s3cret".
func callEndedAndSender(t *testing.T, at time.Time) (*sivo.Event, *webhooktest.Sender) {
	t.Helper()
	ev, err := sivotest.CallEnded("evt_1", at, sivo.CallEnded{CallID: "call-1"})
	if err != nil {
		t.Fatal(err)
	}
	snd, err := sivotest.NewSender("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	return ev, snd
}
