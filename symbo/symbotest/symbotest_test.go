package symbotest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
)

// TestDialerSendsTheNumberAsSymboDoes: Symbo dials
// "GET https://your-custom.com/endpoint?number=+18005551212"
// (providers.md §1.A): the "+" is sent as is, so a form decoder reads
// " 18005551212". The Dialer sent "%2B18005551212", which decodes to
// "+18005551212": a lookup that only handles the "+" passed against the
// fake and failed against Symbo.
func TestDialerSendsTheNumberAsSymboDoes(t *testing.T) {
	var raw, number, token []string
	srv, d := dialerAndEndpoint(t, func(r *http.Request) {
		raw = append(raw, r.URL.RawQuery)
		number = append(number, r.URL.Query().Get("number"))
		token = append(token, r.URL.Query().Get("token"))
	})
	for _, base := range []string{srv.URL + "/lookup", srv.URL + "/lookup?token=tok%2Fen&number=%2B1999"} {
		if code, c, err := d.Lookup(context.Background(), base, "+18005551212"); err != nil || code != 404 || c != nil {
			t.Fatalf("Lookup(%s): %d %v %v", base, code, c, err)
		}
	}
	if raw[0] != "number=+18005551212" {
		t.Errorf("raw query %q, want number=+18005551212", raw[0])
	}
	if number[0] != " 18005551212" || number[1] != " 18005551212" {
		t.Errorf("number decodes as %q, want %q as from Symbo", number, " 18005551212")
	}
	if token[1] != "tok/en" || raw[1] != "token=tok%2Fen&number=+18005551212" {
		t.Errorf("the lookup URL's own query was changed: raw %q, token %q", raw[1], token[1])
	}
}

// TestDialerReachesTheStrictLookup: what the Dialer sends is what
// symbo.NewLookupHandler's strict default accepts (an HMAC over the raw
// query, as sent), over a real connection, concurrently.
func TestDialerReachesTheStrictLookup(t *testing.T) {
	const secret = "abcdefg"
	h, err := symbo.NewLookupHandler([]string{secret}, func(_ context.Context, number string) (*symbo.Contact, error) {
		if number != "+18005551212" {
			return nil, symbo.ErrNoContact
		}
		return &symbo.Contact{ExternalID: "12345", FirstName: "Sally"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	d, err := symbotest.NewDialer(secret)
	if err != nil {
		t.Fatal(err)
	}
	d.Client = srv.Client()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			code, c, err := d.Lookup(context.Background(), srv.URL, "+18005551212")
			if err != nil || code != 200 || c == nil || c.ExternalID != "12345" {
				t.Errorf("lookup: %d %v %v", code, c, err)
			}
		})
	}
	wg.Wait()
}

// TestEventByUserID: every Symbo webhook carries the user_id of the user
// whose action triggered it (vendor/001, "Accounts & Users"); Event
// always wrote "user-1", so a receiver that attributes calls to reps
// could not be tested with two reps.
func TestEventByUserID(t *testing.T) {
	for _, user := range []string{"35904adb-e732-4ee7-a450-a87dfbe8a7f5", "rep-2"} {
		ev, err := symbo.ParseCallEvent(symbotest.EventBy(user, "evt_1", symbo.EventCallCompleted, symbo.Call{ID: "c"}))
		if err != nil {
			t.Fatal(err)
		}
		if ev.UserID != user || ev.ID != "evt_1" || ev.Type != symbo.EventCallCompleted || ev.Data.ID != "c" {
			t.Errorf("EventBy(%q): user %q, id %q, type %q, call %q", user, ev.UserID, ev.ID, ev.Type, ev.Data.ID)
		}
	}
}

// TestEventWritesHTMLAsSymbo: Symbo's call transcription is HTML
// ("Rep Name:<br>This is a test.", vendor/001), and its JSON (Node's
// JSON.stringify) keeps "<" and ">" as is. Event wrote "\u003cbr\u003e",
// Go's escaping, which a receiver that re-marshals the body before the
// HMAC (instead of taking it "exactly as received") reproduces.
func TestEventWritesHTMLAsSymbo(t *testing.T) {
	const tr = "Rep Name:<br>This is a test.<br><br>Prospect:<br>Hey & bye.<br><br>"
	body := symbotest.Event("evt_1", symbo.EventCallUpdated, symbo.Call{ID: "c", Transcription: tr})
	if !strings.Contains(string(body), `"transcription":"`+tr+`"`) {
		t.Errorf("transcription escaped: %s", body)
	}
	ev, err := symbo.ParseCallEvent(body)
	if err != nil || ev.Data.Transcription != tr {
		t.Fatalf("ParseCallEvent: %v, transcription %q", err, ev.Data.Transcription)
	}
	if body[len(body)-1] != '}' {
		t.Errorf("body ends with %q", body[len(body)-1])
	}
}

// TestZeroDialerRefusesToCallUnsigned: a Dialer not built by NewDialer has
// no secret; its Lookup errs instead of sending an unsigned lookup that a
// test would take for Symbo's signed one.
func TestZeroDialerRefusesToCallUnsigned(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	for _, d := range []*symbotest.Dialer{{}, nil} {
		_, _, err := d.Lookup(context.Background(), srv.URL, "+18005551212")
		if err == nil || !strings.Contains(err.Error(), "NewDialer") {
			t.Fatalf("Lookup on %#v: %v, want an error naming NewDialer", d, err)
		}
	}
	if calls != 0 {
		t.Fatalf("the endpoint was called %d times", calls)
	}
}

// TestDialerKeepsTheLookupQueryAsWritten: the Dialer keeps the lookup
// URL's own query as written and appends the number (CHANGELOG), also
// when that URL already carries a number: it re-encoded the rest of the
// query then (keys sorted, %20 as +), so the token a receiver reads from
// the raw query was not the one it configured.
func TestDialerKeepsTheLookupQueryAsWritten(t *testing.T) {
	var raw string
	srv, d := dialerAndEndpoint(t, func(r *http.Request) { raw = r.URL.RawQuery })
	if _, _, err := d.Lookup(context.Background(), srv.URL+"/lookup?z=1&token=a%20b&number=%2B1999&a=2", "+18005551212"); err != nil {
		t.Fatal(err)
	}
	if want := "z=1&token=a%20b&a=2&number=+18005551212"; raw != want {
		t.Errorf("raw query %q, want %q", raw, want)
	}
}

// dialerAndEndpoint is a Dialer signing with "abcdefg" and a lookup
// endpoint over loopback that passes each request to seen (one at a
// time; a lookup returns after seen did) and answers 404.
func dialerAndEndpoint(t *testing.T, seen func(*http.Request)) (*httptest.Server, *symbotest.Dialer) {
	t.Helper()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen(r)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	d, err := symbotest.NewDialer("abcdefg")
	if err != nil {
		t.Fatal(err)
	}
	d.Client = srv.Client()
	return srv, d
}
