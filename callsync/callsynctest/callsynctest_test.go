package callsynctest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/callsync/callsynctest"
)

func TestBuildSetsEveryIdentifyingField(t *testing.T) {
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	body := callsynctest.Build("recording_updated", callsynctest.Fields{PayloadID: "p-9", OrgID: "org-2", Timestamp: at,
		CallID: 4242, Direction: "outgoing", StartedAt: at, Phone: "+14155550100", CallerName: "Ada",
		ContactID: "c-7", StaffID: "emp-1", RecordingURL: "https://r.example/x.mp3"})
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
