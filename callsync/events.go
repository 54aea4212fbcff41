package callsync

import (
	"encoding/json"
	"fmt"

	"github.com/callcrm/callcrm-go/webhook"
)

// EventType is the "event" field of a CallSync webhook.
type EventType string

// Event types CallSync documents.
const (
	EventCallLogged       EventType = "call_logged"
	EventRecordingUpdated EventType = "recording_updated"
	EventAIAnalysis       EventType = "ai_analysis"
	EventCallerUpdated    EventType = "caller_updated"
)

// Event is the envelope every CallSync webhook shares.
type Event struct {
	// Type is the event type (CallSync's "event" field).
	Type EventType `json:"event"`
	// CallType is CallSync's "Global Call Type" (its "type" field), such
	// as "incoming".
	CallType  string       `json:"type"`
	OrgID     string       `json:"org_id"`
	Timestamp webhook.Time `json:"timestamp"`
	// PayloadID is CallSync's payload id. It is not unique per event (the
	// guide's sample uses one value per event type), so the handler
	// deduplicates on it together with a hash of the event without its
	// timestamp (DeliveryKey).
	PayloadID string `json:"payload_id"`
	Data      Data   `json:"data"`
	// Raw is the exact body that was verified.
	Raw []byte `json:"-"`
}

// Data is the event's payload.
type Data struct {
	CallDetails CallDetails `json:"call_details"`
	Caller      Caller      `json:"caller"`
	Identity    Identity    `json:"identity"`
	AIAnalysis  AIAnalysis  `json:"ai_analysis"`
	Staff       Staff       `json:"staff"`
}

// CallDetails describes the call.
type CallDetails struct {
	CallID        webhook.ID   `json:"call_id"`
	Direction     string       `json:"direction"`
	Type          string       `json:"type"`
	Status        string       `json:"status"`
	DurationTotal webhook.Int  `json:"duration_total"` // seconds
	RecordingURL  string       `json:"recording_url"`
	FileStatus    string       `json:"file_status"`
	Reviewed      bool         `json:"reviewed"`
	StartedAt     webhook.Time `json:"started_at"`
}

// Caller is the other party as the phone reported it.
type Caller struct {
	Phone string `json:"phone"`
	Name  string `json:"name"`
}

// Identity is the contact CallSync matched.
type Identity struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Phone  string   `json:"phone"`
	Email  string   `json:"email"`
	Note   string   `json:"note"`
	Labels []string `json:"labels"`
}

// AIAnalysis carries the documented status and, in Raw, everything else
// CallSync sends (not documented).
type AIAnalysis struct {
	Status string `json:"status"`
	// Raw is the whole ai_analysis object.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON keeps the raw object next to the typed status.
func (a *AIAnalysis) UnmarshalJSON(b []byte) error {
	var v struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	a.Status = v.Status
	a.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Decode unmarshals the raw analysis into v.
func (a *AIAnalysis) Decode(v any) error {
	if len(a.Raw) == 0 {
		return fmt.Errorf("callsync: no ai_analysis in the event")
	}
	return json.Unmarshal(a.Raw, v)
}

// Staff is the team member who took or made the call.
type Staff struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

// ParseEvent decodes an event and keeps body as Raw.
func ParseEvent(body []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("callsync: decoding event: %w", err)
	}
	e.Raw = body
	return &e, nil
}
