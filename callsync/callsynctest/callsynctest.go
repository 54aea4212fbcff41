// Package callsynctest builds CallSync events, signs them as CallSync does
// (hex HMAC-SHA256 of the raw body in X-CallSync-Signature) and delivers
// them to a URL or an http.Handler, like CallSync's Live Simulator.
//
//	h, err := callsync.NewHandler([]string{secret}, callsync.Callbacks{CallLogged: onCall})
//	if err != nil {
//		t.Fatal(err)
//	}
//	s, err := callsynctest.NewSender(secret)
//	if err != nil {
//		t.Fatal(err)
//	}
//	body := callsynctest.Sample(callsync.EventCallLogged, "payload-1") // the documented sample
//	if code := s.Serve(h, body); code != http.StatusOK {
//		t.Fatalf("status %d", code)
//	}
package callsynctest

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// CallLoggedSample is the call_logged payload of CallSync's webhook guide.
const CallLoggedSample = `{
    "event": "call_logged",
    "type": "incoming",
    "org_id": "org_demo_123",
    "timestamp": "2026-04-28T11:58:13.000Z",
    "payload_id": "wh_live_call_logged",
    "data": {
        "call_details": {
            "call_id": 88231,
            "direction": "incoming",
            "type": "incoming",
            "status": "incoming",
            "duration_total": "124",
            "recording_url": "https://r2.callsyncapp.com/UPTOWN/8/2026_04/rec_88231.mp3",
            "file_status": "completed",
            "reviewed": false,
            "started_at": "2024-04-28T11:58:00Z"
        },
        "caller": {
            "phone": "+919876543210",
            "name": "John Doe"
        },
        "identity": {
            "id": "contact_9921",
            "name": "John Doe",
            "phone": "+919876543210",
            "email": "john.doe@example.com",
            "note": "VIP Corporate Account",
            "labels": [
                "high-value",
                "priority"
            ]
        },
        "ai_analysis": {
            "status": "pending"
        },
        "staff": {
            "id": "emp_7721",
            "name": "Rahul Sharma",
            "phone": "+918877665544",
            "email": "rahul@company.com"
        }
    }
}`

// Sample returns the guide's payload as another event with another
// payload_id (CallSync documents only call_logged; the others are assumed
// to share its envelope).
func Sample(event callsync.EventType, payloadID string) []byte {
	s := strings.Replace(CallLoggedSample, `"event": "call_logged"`, `"event": `+jsonString(string(event)), 1)
	return []byte(strings.Replace(s, `"payload_id": "wh_live_call_logged"`, `"payload_id": `+jsonString(payloadID), 1))
}

// jsonString is s as a JSON string literal, "&", "<" and ">" as is (as
// Build writes them), so any value can be spliced into the sample's text.
func jsonString(s string) string {
	b, _ := testkit.MarshalJS(s, "") // a string always encodes
	return string(b)
}

// timestampLayout is how CallSync writes the envelope's timestamp: UTC
// with milliseconds ("2026-04-28T11:58:13.000Z" in the guide's sample).
const timestampLayout = "2006-01-02T15:04:05.000Z"

// NewSender returns a Sender for the endpoint's webhook secret: it sets
// X-CallSync-Signature and Content-Type. CallSync documents no retry
// schedule, so Replay makes one attempt.
func NewSender(secret string) (*webhooktest.Sender, error) {
	s, err := webhook.NewHMACSigner(callsync.HeaderSignature, "", secret)
	if err != nil {
		return nil, err
	}
	// CallSync documents a JSON POST, not its Content-Type: the fake sends application/json.
	return webhooktest.NewSender(s.SignHeader, "/webhooks/callsync", []time.Duration{0}), nil
}

// Fields are the identifying fields of a CallSync event; Build keeps the
// sample's value for every zero field.
type Fields struct {
	// PayloadID is the envelope's payload_id (the delivery's id).
	PayloadID string
	// OrgID is the envelope's org_id.
	OrgID string
	// Timestamp is the envelope's timestamp.
	Timestamp time.Time
	// CallID is data.call_details.call_id.
	CallID int64
	// Direction is the envelope's type and data.call_details' direction,
	// type and status ("incoming", "outgoing", "missed", ...).
	Direction string
	// StartedAt is data.call_details.started_at.
	StartedAt time.Time
	// Phone and CallerName are data.caller's phone and name (Phone is also
	// data.identity.phone).
	Phone, CallerName string
	// ContactID is data.identity.id, the CRM contact CallSync matched.
	ContactID string
	// StaffID is data.staff.id, the employee who took the call.
	StaffID string
	// RecordingURL is data.call_details.recording_url.
	RecordingURL string
	// FileStatus is data.call_details.file_status: what tells two
	// recording_updated events of one call apart.
	FileStatus string
	// AIAnalysisStatus is data.ai_analysis.status: what tells two
	// ai_analysis events of one call apart.
	AIAnalysisStatus string
}

// Build returns the guide's sample as event with the given fields set,
// so a test can send two different calls, the same call twice, or a retry
// of one payload. It writes the body in the guide's form: its keys in its
// order, indented with four spaces, "&", "<" and ">" as is, so Build with
// zero fields is CallLoggedSample. event is any event name, as Sample's:
// one of callsync's EventType constants, or another for an Unknown test.
func Build(event callsync.EventType, f Fields) []byte {
	var m sample
	_ = json.Unmarshal([]byte(CallLoggedSample), &m) // the constant is valid JSON
	call := &m.Data.CallDetails
	m.Event = string(event)
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&m.PayloadID, f.PayloadID)
	set(&m.OrgID, f.OrgID)
	if !f.Timestamp.IsZero() {
		m.Timestamp = f.Timestamp.UTC().Format(timestampLayout)
	}
	if f.CallID != 0 {
		call.CallID = f.CallID
	}
	if f.Direction != "" {
		// The guide shows only "incoming", where the envelope's type and
		// call_details' direction, type and status all equal the "Global
		// Call Type"; the fake keeps the four equal for any other.
		m.Type, call.Direction, call.Type, call.Status = f.Direction, f.Direction, f.Direction, f.Direction
	}
	if !f.StartedAt.IsZero() {
		call.StartedAt = f.StartedAt.UTC().Format(time.RFC3339)
	}
	set(&call.RecordingURL, f.RecordingURL)
	set(&call.FileStatus, f.FileStatus)
	set(&m.Data.AIAnalysis.Status, f.AIAnalysisStatus)
	set(&m.Data.Caller.Phone, f.Phone)
	set(&m.Data.Identity.Phone, f.Phone)
	set(&m.Data.Caller.Name, f.CallerName)
	set(&m.Data.Identity.ID, f.ContactID)
	set(&m.Data.Staff.ID, f.StaffID)
	// CallSync documents no wire form beyond its one sample: the fake
	// writes that sample's (JSON.stringify's escaping, four-space indent).
	b, _ := testkit.MarshalJS(m, "    ") // strings, numbers and a bool always encode
	return b
}

// sample is CallLoggedSample's shape, its fields in the guide's order.
type sample struct {
	Event     string `json:"event"`
	Type      string `json:"type"`
	OrgID     string `json:"org_id"`
	Timestamp string `json:"timestamp"`
	PayloadID string `json:"payload_id"`
	Data      struct {
		CallDetails struct {
			CallID        int64  `json:"call_id"`
			Direction     string `json:"direction"`
			Type          string `json:"type"`
			Status        string `json:"status"`
			DurationTotal string `json:"duration_total"`
			RecordingURL  string `json:"recording_url"`
			FileStatus    string `json:"file_status"`
			Reviewed      bool   `json:"reviewed"`
			StartedAt     string `json:"started_at"`
		} `json:"call_details"`
		Caller struct {
			Phone string `json:"phone"`
			Name  string `json:"name"`
		} `json:"caller"`
		Identity   callsync.Identity `json:"identity"`
		AIAnalysis struct {
			Status string `json:"status"`
		} `json:"ai_analysis"`
		Staff struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Phone string `json:"phone"`
			Email string `json:"email"`
		} `json:"staff"`
	} `json:"data"`
}
