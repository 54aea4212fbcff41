package callsynctest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

func TestBuildSetsEveryIdentifyingField(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	body := callsynctest.Build("recording_updated", callsynctest.Fields{PayloadID: "p-9", OrgID: "org-2", Timestamp: at,
		CallID: 4242, Direction: "outgoing", StartedAt: at, Phone: "+14155550100", CallerName: "Ada",
		ContactID: "c-7", StaffID: "emp-1", RecordingURL: "https://r.example/x.mp3",
		FileStatus: "processing", AIAnalysisStatus: "pending"})
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	data := m["data"].(map[string]any)
	call := data["call_details"].(map[string]any)
	checks := map[string][2]any{
		"event":        {m["event"], "recording_updated"},
		"payload_id":   {m["payload_id"], "p-9"},
		"org_id":       {m["org_id"], "org-2"},
		"timestamp":    {m["timestamp"], "2026-05-01T10:00:00.000Z"},
		"type":         {m["type"], "outgoing"},
		"call_id":      {call["call_id"], float64(4242)},
		"direction":    {call["direction"], "outgoing"},
		"started_at":   {call["started_at"], "2026-05-01T10:00:00Z"},
		"recording":    {call["recording_url"], "https://r.example/x.mp3"},
		"caller.phone": {data["caller"].(map[string]any)["phone"], "+14155550100"},
		"caller.name":  {data["caller"].(map[string]any)["name"], "Ada"},
		"identity.id":  {data["identity"].(map[string]any)["id"], "c-7"},
		"staff.id":     {data["staff"].(map[string]any)["id"], "emp-1"},
		"file_status":  {call["file_status"], "processing"},
		"ai.status":    {data["ai_analysis"].(map[string]any)["status"], "pending"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
	// Zero fields keep the sample.
	var def map[string]any
	_ = json.Unmarshal(callsynctest.Build("call_logged", callsynctest.Fields{}), &def)
	if def["payload_id"] != "wh_live_call_logged" || def["org_id"] != "org_demo_123" {
		t.Errorf("zero fields changed the sample: %v %v", def["payload_id"], def["org_id"])
	}
}

func TestBuiltEventsReachTheHandler(t *testing.T) {
	h, err := callsync.NewHandler([]string{"s3cret"}, callsync.Callbacks{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := callsynctest.NewSender("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, 2} {
		body := callsynctest.Build("call_logged", callsynctest.Fields{PayloadID: "p", CallID: id})
		if code := s.Serve(h, body); code != http.StatusOK {
			t.Fatalf("call %d: status %d", id, code)
		}
	}
	req, err := s.Request(context.Background(), "http://x/y", callsynctest.Build("call_logged", callsynctest.Fields{}))
	if err != nil || req.Header.Get(callsync.HeaderSignature) == "" {
		t.Fatalf("request not signed: %v", err)
	}
}

// TestSampleEscapesItsArguments: Sample spliced the payload id and event
// name into the JSON text unescaped, so an id with a quote or a backslash
// made a body CallSync never sends and callsync cannot decode (400).
func TestSampleEscapesItsArguments(t *testing.T) {
	for _, event := range []callsync.EventType{callsync.EventRecordingUpdated, `rec"ording\`} {
		for _, id := range []string{"wh_1", `wh_"quoted"`, `wh_back\slash`, "wh_\n", "wh_<&>"} {
			ev, err := callsync.ParseEvent(callsynctest.Sample(event, id))
			if err != nil {
				t.Errorf("Sample(%q, %q): %v", event, id, err)
				continue
			}
			if ev.PayloadID != id || ev.Type != event {
				t.Errorf("Sample(%q, %q): payload_id %q, event %q", event, id, ev.PayloadID, ev.Type)
			}
		}
	}
}

// TestBuildDirectionIsTheCallType: in CallSync's sample (vendor/002) the
// "Global Call Type" is the envelope's type and call_details' direction,
// type and status alike; Build changed three of them and left status
// "incoming", so an outgoing call said it was incoming.
func TestBuildDirectionIsTheCallType(t *testing.T) {
	ev, err := callsync.ParseEvent(callsynctest.Build("call_logged", callsynctest.Fields{Direction: "outgoing"}))
	if err != nil {
		t.Fatal(err)
	}
	cd := ev.Data.CallDetails
	for name, v := range map[string]string{"type": ev.CallType, "direction": cd.Direction, "call_details.type": cd.Type, "call_details.status": cd.Status} {
		if v != "outgoing" {
			t.Errorf("%s = %q, want outgoing", name, v)
		}
	}
}

// TestSubjectTimestampAsCallSyncWritesIt: CallSync's timestamp is UTC
// with milliseconds ("2026-04-28T11:58:13.000Z", vendor/002); the
// Subject's deliveries wrote RFC 3339 without them ("...:13Z").
func TestSubjectTimestampAsCallSyncWritesIt(t *testing.T) {
	clk := webhooktest.NewFakeClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.FixedZone("X", 3600)))
	s, err := callsynctest.Subject("s3cret", clk)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(s.Body("p-1"), &m); err != nil {
		t.Fatal(err)
	}
	if m["timestamp"] != "2026-05-01T09:00:00.000Z" {
		t.Errorf("timestamp = %v, want 2026-05-01T09:00:00.000Z", m["timestamp"])
	}
}

// TestBuildWritesTheGuidesForm: the guide's payload (vendor/002) is the
// only body CallSync shows: its keys in its order, indented, "&" and "<"
// as is. Build wrote Go's re-encoding of a map (keys sorted, compact,
// "&" as \u0026): exactly what a receiver that re-marshals the JSON before
// checking the HMAC (the raw-body mistake the guide warns about)
// reproduces, so that receiver passed against the fake.
func TestBuildWritesTheGuidesForm(t *testing.T) {
	if !strings.Contains(string(callsynctest.Sample("ai_analysis", "a&b")), `"payload_id": "a&b"`) {
		t.Error("Sample escaped the payload id's &")
	}
	if got := callsynctest.Build("call_logged", callsynctest.Fields{}); string(got) != callsynctest.CallLoggedSample {
		t.Errorf("Build with zero fields is not the guide's sample:\n%s", got)
	}
	body := callsynctest.Build("recording_updated", callsynctest.Fields{RecordingURL: "https://r.example/x.mp3?a=1&b=<2>"})
	if !strings.Contains(string(body), `"recording_url": "https://r.example/x.mp3?a=1&b=<2>"`) {
		t.Errorf("recording_url escaped:\n%s", body)
	}
	var m any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	reencoded, _ := json.Marshal(m)
	if string(reencoded) == string(body) {
		t.Error("Build's body is Go's re-encoding of itself: a re-marshalling receiver would verify it")
	}
}

// TestBuildTellsUpdatesOfOneCallApart: two recording_updated (or
// ai_analysis) events of one call that differ only in the file's (or the
// analysis') status are two events, keyed apart; Build can write both.
func TestBuildTellsUpdatesOfOneCallApart(t *testing.T) {
	for _, c := range []struct {
		event callsync.EventType
		a, b  callsynctest.Fields
	}{
		{callsync.EventRecordingUpdated, callsynctest.Fields{FileStatus: "processing"}, callsynctest.Fields{FileStatus: "completed"}},
		{callsync.EventAIAnalysis, callsynctest.Fields{AIAnalysisStatus: "pending"}, callsynctest.Fields{AIAnalysisStatus: "completed"}},
	} {
		ka, err := callsync.DeliveryKey(callsynctest.Build(c.event, c.a))
		if err != nil {
			t.Fatal(err)
		}
		kb, err := callsync.DeliveryKey(callsynctest.Build(c.event, c.b))
		if err != nil {
			t.Fatal(err)
		}
		if ka == kb {
			t.Errorf("%s: both updates keyed %q", c.event, ka)
		}
	}
}
