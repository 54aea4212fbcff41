package sivotest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
)

var at = time.Date(2026, 5, 20, 10, 23, 45, 123e6, time.UTC)

// TestNewEventRefusesWhatSIVONeverSends: SIVO's envelope always has an id
// ("evt_..."), a type and a createdAt (vendor/004, "Event structure"). A
// builder that accepts an empty id or type, or the zero time, makes an
// envelope sivo.ParseEvent refuses (400) or whose createdAt does not
// parse, so a test would exercise a delivery SIVO never makes.
func TestNewEventRefusesWhatSIVONeverSends(t *testing.T) {
	cases := map[string]struct {
		id  string
		typ sivo.EventType
		at  time.Time
	}{
		"empty id":       {"", sivo.EventCallEnded, at},
		"empty type":     {"evt_1", "", at},
		"zero createdAt": {"evt_1", sivo.EventCallEnded, time.Time{}},
	}
	for name, c := range cases {
		ev, err := sivotest.NewEvent(c.id, c.typ, c.at, map[string]any{})
		if err == nil {
			t.Errorf("%s: NewEvent built %s, want an error", name, ev.Raw)
		}
	}
	for name, data := range map[string]any{"array": []int{1}, "string": "x", "number": 3} {
		if ev, err := sivotest.NewEvent("evt_1", sivo.EventCallEnded, at, data); err == nil {
			t.Errorf("data %s: NewEvent built %s, want an error (data is an object)", name, ev.Raw)
		}
	}
}

// TestNewEventNilDataIsAnObject: every documented envelope carries a data
// object; nil data must not become "data": null, which sivo decodes as
// "no data" (a 500 on every retry for call.ended).
func TestNewEventNilDataIsAnObject(t *testing.T) {
	ev, err := sivotest.NewEvent("evt_1", sivo.EventWebhookTest, at, nil)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(ev.Raw, &m); err != nil {
		t.Fatal(err)
	}
	if string(m["data"]) != "{}" {
		t.Errorf("data = %s, want {}", m["data"])
	}
	var v map[string]any
	if err := ev.DecodeData(&v); err != nil {
		t.Errorf("DecodeData: %v", err)
	}
}

// TestScheduleIsNotSharedState: sivotest.Schedule is an exported slice;
// a test changing it (or racing on it) must not change what SIVO's fake
// replays for every other test in the binary.
func TestScheduleIsNotSharedState(t *testing.T) {
	want := slices.Clone(sivotest.Schedule)
	sivotest.Schedule[1] = 0
	sivotest.Schedule = sivotest.Schedule[:1]
	t.Cleanup(func() { sivotest.Schedule = want })
	s, err := sivotest.NewSender("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Schedule(); !slices.Equal(got, want) {
		t.Errorf("Schedule() = %v, want SIVO's %v", got, want)
	}
}

// TestSenderHeadersOverHTTP: what the fake sends over a real connection
// is what SIVO documents (vendor/004, "Headers SIVO sends"): the four
// headers, the event id and type equal to the body's, and a signature
// "sha256=" + lower-case hex.
func TestSenderHeadersOverHTTP(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
	}))
	defer srv.Close()
	s, err := sivotest.NewSender("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sivotest.CallEnded("evt_01H8XYZ", at, sivo.CallEnded{CallID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := s.Deliver(t.Context(), srv.URL, ev.Raw); err != nil || code != 200 {
		t.Fatalf("Deliver: %d %v", code, err)
	}
	if got.Get(sivo.HeaderEventID) != "evt_01H8XYZ" || got.Get(sivo.HeaderEventType) != "call.ended" || got.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", got)
	}
	sig := got.Get(sivo.HeaderSignature)
	if len(sig) != len("sha256=")+64 || sig[:7] != "sha256=" {
		t.Errorf("signature %q is not sha256=<hex>", sig)
	}
}

// TestNewTenantEventSetsTenantID: tenantId identifies the SIVO tenant
// (vendor/004, "Event structure"); a receiver serving several tenants
// must be testable with events from each.
func TestNewTenantEventSetsTenantID(t *testing.T) {
	for _, tenant := range []string{"uuid-tenant-a", "uuid-tenant-b"} {
		ev, err := sivotest.NewTenantEvent(tenant, "evt_1", sivo.EventCallEnded, at, sivo.CallEnded{CallID: "c"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := sivo.ParseEvent(ev.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if got.TenantID != tenant || ev.TenantID != tenant {
			t.Errorf("tenantId = %q (event %q), want %q", got.TenantID, ev.TenantID, tenant)
		}
	}
	if _, err := sivotest.NewTenantEvent("", "evt_1", sivo.EventCallEnded, at, nil); err == nil {
		t.Error("an empty tenant id was accepted")
	}
}

// TestNewEventIsWhatTheReceiverDecodes: SIVO writes createdAt with
// milliseconds (vendor/004), so the body carries no finer time; the
// returned event must hold what its own body says, or a test comparing
// the built event with the received one fails for a nanosecond.
func TestNewEventIsWhatTheReceiverDecodes(t *testing.T) {
	ev, err := sivotest.NewEvent("evt_1", sivo.EventCallEnded, at.Add(456789*time.Nanosecond), sivo.CallEnded{CallID: "c"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := sivo.ParseEvent(ev.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Time.Equal(ev.CreatedAt.Time) || got.CreatedAt.Raw != ev.CreatedAt.Raw {
		t.Errorf("built createdAt %v (%q), the body says %v (%q)", ev.CreatedAt.Time, ev.CreatedAt.Raw, got.CreatedAt.Time, got.CreatedAt.Raw)
	}
	if got.CreatedAt.Raw != "2026-05-20T10:23:45.123Z" {
		t.Errorf("createdAt %q, want SIVO's form 2026-05-20T10:23:45.123Z", got.CreatedAt.Raw)
	}
}

// TestNewEventWritesHTMLAsSIVO: SIVO's bodies are JSON.stringify's, which
// keeps "&", "<" and ">" as is; NewEvent wrote Go's "\u0026", which a
// receiver that re-marshals the body before the HMAC reproduces.
func TestNewEventWritesHTMLAsSIVO(t *testing.T) {
	ev, err := sivotest.NewTenantEvent("t<&>", "evt_<1>", sivo.EventCallEnded, at, sivo.CallEnded{HangupCause: "A&B <x>"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"hangupCause":"A&B <x>"`, `"id":"evt_<1>"`, `"tenantId":"t<&>"`} {
		if !strings.Contains(string(ev.Raw), want) {
			t.Errorf("%s not in %s", want, ev.Raw)
		}
	}
	if string(ev.Data) != `{"callId":"","direction":"","from":"","to":"","duration_sec":null,"agentId":"","queueId":"","mosScore":null,"hangupCause":"A&B <x>"}` {
		t.Errorf("data %s", ev.Data)
	}
	got, err := sivo.ParseEvent(ev.Raw)
	if err != nil || got.ID != "evt_<1>" || got.TenantID != "t<&>" {
		t.Fatalf("ParseEvent: %v %+v", err, got)
	}
}
