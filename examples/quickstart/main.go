// Command quickstart shows callcrm-go's inbound integrations working end to
// end, offline: real HTTP servers on loopback, events signed exactly as the
// vendors sign them, verification, dedupe and typed callbacks.
//
//	go run ./examples/quickstart
//
// It exits 0 when every step behaved as expected and 1 with a message
// otherwise. It never touches the network beyond 127.0.0.1.
//
// By default everything runs against the embedded fakes (sirotest and the
// vendors' test senders). With SIRO_ORG_TOKEN set, the Siro steps run
// against the real API instead (see the README for the variables).
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook"
)

func main() {
	if err := run(context.Background(), os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart failed:", err)
		os.Exit(1)
	}
}

// Demo secrets: in production they come from the environment.
const (
	symboSecret    = "symbo-webhook-secret"
	callsyncSecret = "callsync-webhook-secret"
	sivoSecret     = "sivo-webhook-secret"
)

func run(ctx context.Context, out io.Writer, getenv func(string) string) error {
	step := func(format string, args ...any) { fmt.Fprintf(out, "==> "+format+"\n", args...) }
	say := func(format string, args ...any) { fmt.Fprintf(out, "    "+format+"\n", args...) }

	if err := runSiro(ctx, step, say, getenv); err != nil {
		return fmt.Errorf("siro: %w", err)
	}

	// 1. One server with every receiver on a ServeMux, as a CRM backend runs it.
	rc, err := newReceivers(say)
	if err != nil {
		return err
	}
	srv := httptest.NewServer(rc.mux)
	defer srv.Close()
	defer func() { _ = rc.sivo.Shutdown(context.Background()) }()
	step("5. the other vendors: one receiver on %s (signature verification on, raw bodies kept)", srv.URL)

	if err := runSymbo(ctx, srv, step, say); err != nil {
		return err
	}
	if err := runCallSync(ctx, srv, step); err != nil {
		return err
	}
	if err := runSIVO(ctx, srv, step, say); err != nil {
		return err
	}

	if rc.symboCalls.Load() != 1 || rc.callsyncCalls.Load() != 1 || rc.sivoCalls.Load() != 1 {
		return fmt.Errorf("callbacks ran %d/%d/%d times, want 1/1/1", rc.symboCalls.Load(), rc.callsyncCalls.Load(), rc.sivoCalls.Load())
	}
	step("all verified: every genuine event handled once, the forgery refused")
	return nil
}

// receivers is the CRM backend's side: every vendor's receiver on one
// ServeMux, and how many times each vendor's callback ran.
type receivers struct {
	mux                                  *http.ServeMux
	sivo                                 *sivo.Handler
	symboCalls, callsyncCalls, sivoCalls atomic.Int32
}

// newReceivers builds the Symbo lookup and the Symbo, CallSync and SIVO
// webhook receivers, whose callbacks print what they got with say.
func newReceivers(say printer) (*receivers, error) {
	rc := &receivers{}
	// The lookup serves personal data: it checks Symbo's X-Hmac-Signature.
	lookup, err := symbo.NewLookupHandler([]string{symboSecret}, func(ctx context.Context, number string) (*symbo.Contact, error) {
		if number != "+18005551212" {
			return nil, symbo.ErrNoContact
		}
		return &symbo.Contact{ExternalID: "crm-contact-12345", FirstName: "Sally", LastName: "Sample",
			Title: "Homeowner", Account: &symbo.Account{ExternalID: "crm-account-9876", Name: "Sample Residence"}}, nil
	})
	if err != nil {
		return nil, err
	}
	symboHooks, err := symbo.NewHandler([]string{symboSecret}, symbo.Callbacks{
		Call: func(ctx context.Context, ev *symbo.CallEvent) error {
			rc.symboCalls.Add(1)
			say("symbo: %s for prospect %s (%s), disposition %q, unparsed timestamps %v",
				ev.Type, ev.Data.Prospect.ExternalID, ev.Data.Prospect.FullName, ev.Data.CallDisposition, ev.UnparsedTimes())
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	callsyncHooks, err := callsync.NewHandler([]string{callsyncSecret}, callsync.Callbacks{
		CallLogged: func(ctx context.Context, ev *callsync.Event) error {
			rc.callsyncCalls.Add(1)
			cd := ev.Data.CallDetails
			say("callsync: call_logged call %s, %ds, caller %s, contact %s %v",
				cd.CallID, cd.DurationTotal.Value, ev.Data.Caller.Phone, ev.Data.Identity.ID, ev.Data.Identity.Labels)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	rc.sivo, err = sivo.NewHandler([]string{sivoSecret}, sivo.Callbacks{
		CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
			rc.sivoCalls.Add(1)
			say("sivo: call.ended %s %s -> %s, %ds, MOS %.1f, %s", c.CallID, c.From, c.To, c.DurationSec.Value, c.MOSScore.Value, c.HangupCause)
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	rc.mux = http.NewServeMux()
	rc.mux.Handle("/symbo/lookup", lookup)
	rc.mux.Handle("POST /webhooks/symbo", symboHooks)
	rc.mux.Handle("POST /webhooks/callsync", callsyncHooks)
	rc.mux.Handle("/webhooks/sivo", rc.sivo)
	return rc, nil
}

// runSymbo: the dialer looks the number up (signed, unknown, unsigned),
// then reports the call.
func runSymbo(ctx context.Context, srv *httptest.Server, step, say printer) error {
	symboDialer, _ := symbotest.NewDialer(symboSecret)
	symboDialer.Client = srv.Client()
	symboSender, _ := symbotest.NewSender(symboSecret)
	symboSender.Client = srv.Client()
	step("Symbo dials +1 800 555 1212 and asks the CRM who it is (a signed GET)")
	code, c, err := symboDialer.Lookup(ctx, srv.URL+"/symbo/lookup", "+18005551212")
	if err != nil {
		return err
	}
	if code != 200 || c == nil || c.ExternalID != "crm-contact-12345" {
		return fmt.Errorf("symbo lookup: got %d %+v", code, c)
	}
	say("lookup: 200 %s %s (account %s)", c.FirstName, c.LastName, c.Account.Name)
	if code, _, _ = symboDialer.Lookup(ctx, srv.URL+"/symbo/lookup", "+18005550000"); code != 404 {
		return fmt.Errorf("symbo lookup of an unknown number: got %d, want 404", code)
	}
	say("lookup of an unknown number: 404")
	if code, _, _ = symbotest.Lookup(ctx, srv.Client(), srv.URL+"/symbo/lookup", "+18005551212"); code != 401 {
		return fmt.Errorf("unsigned symbo lookup: got %d, want 401", code)
	}
	say("unsigned lookup (anyone on the internet): 401, no contact data")
	step("Symbo sends a signed call event (its documentation's own sample)")
	if code, err = symboSender.Deliver(ctx, srv.URL+"/webhooks/symbo", []byte(symbotest.DocSample)); err != nil || code != 200 {
		return fmt.Errorf("symbo call event: %d %v", code, err)
	}
	return nil
}

// runCallSync: a call is logged.
func runCallSync(ctx context.Context, srv *httptest.Server, step printer) error {
	step("CallSync sends call_logged (call_id as a number, duration as a string)")
	csSender, _ := callsynctest.NewSender(callsyncSecret)
	csSender.Client = srv.Client()
	if code, err := csSender.Deliver(ctx, srv.URL+"/webhooks/callsync", []byte(callsynctest.CallLoggedSample)); err != nil || code != 200 {
		return fmt.Errorf("callsync call_logged: %d %v", code, err)
	}
	return nil
}

// runSIVO: call.ended, its redelivery, and a forgery.
func runSIVO(ctx context.Context, srv *httptest.Server, step, say printer) error {
	step("SIVO sends call.ended, then redelivers it, then someone forges one")
	sv, _ := sivotest.NewSender(sivoSecret)
	sv.Client = srv.Client()
	ev, err := sivotest.NewEvent("evt_01H8XYZ", sivo.EventCallEnded, time.Now(), sivo.CallEnded{
		CallID: "call-7f3a", Direction: sivo.DirectionInbound, From: "+34611222333", To: "+34911234567",
		DurationSec: webhook.Int{Value: 184, Valid: true}, AgentID: "agent-1", QueueID: "queue-sales",
		MOSScore: webhook.Float{Value: 4.3, Valid: true}, HangupCause: "NORMAL_CLEARING"})
	if err != nil {
		return err
	}
	for i, label := range []string{"first delivery", "redelivery"} {
		code, err := sv.Deliver(ctx, srv.URL+"/webhooks/sivo", ev.Raw)
		if err != nil || code != 200 {
			return fmt.Errorf("sivo %s: %d %v", label, code, err)
		}
		if i == 1 {
			say("redelivery of %s: 200, acknowledged without running the callback again", ev.ID)
		}
	}
	return sendForgedSIVO(ctx, srv, ev, say)
}

// sendForgedSIVO posts a copy of ev under another id with a made-up
// signature and checks the receiver refuses it with 401.
func sendForgedSIVO(ctx context.Context, srv *httptest.Server, ev *sivo.Event, say printer) error {
	forged, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/webhooks/sivo",
		strings.NewReader(strings.Replace(string(ev.Raw), "evt_01H8XYZ", "evt_forged", 1)))
	if err != nil {
		return err
	}
	forged.Header.Set(sivo.HeaderSignature, "sha256="+strings.Repeat("0", 64))
	forged.Header.Set(sivo.HeaderEventID, "evt_forged")
	resp, err := srv.Client().Do(forged)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("forged sivo event: got %d, want 401", resp.StatusCode)
	}
	say("forged event refused: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	return nil
}
