package sivo

import (
	"encoding/json"
	"fmt"

	"github.com/callcrm/callcrm-go/webhook"
)

// EventType is the "type" of a SIVO event.
type EventType string

// Event types SIVO documents.
const (
	EventCallCreated        EventType = "call.created"
	EventCallAnswered       EventType = "call.answered"
	EventCallTransferred    EventType = "call.transferred"
	EventCallEnded          EventType = "call.ended"
	EventCallRecorded       EventType = "call.recorded"
	EventTranscriptSegment  EventType = "transcript.segment"
	EventTranscriptComplete EventType = "transcript.completed"
	EventQueueEntered       EventType = "queue.entered"
	EventQueueAbandoned     EventType = "queue.abandoned"
	EventAgentStatusChanged EventType = "agent.status_changed"
	EventAgentPaused        EventType = "agent.paused"
	EventIVRCompleted       EventType = "ivr.completed"
	EventAIAgentCompleted   EventType = "ai_agent.completed"
	// EventWebhookTest is sent when an endpoint is saved in SIVO's settings.
	EventWebhookTest EventType = "webhook.test"
)

// Event is the envelope of every SIVO webhook.
type Event struct {
	// ID is the event id ("evt_..."), identical on every retry.
	ID string `json:"id"`
	// Type is the event type.
	Type EventType `json:"type"`
	// CreatedAt is when SIVO created the event; use it, not arrival order,
	// to order events. It decodes leniently ("2026-05-20 10:23:45" without
	// a zone is read as UTC; an unparseable value keeps its raw text with
	// Valid false instead of failing the event).
	CreatedAt webhook.Time `json:"createdAt"`
	// TenantID is the SIVO tenant.
	TenantID string `json:"tenantId"`
	// Data is the event payload as raw JSON.
	Data json.RawMessage `json:"data"`
	// Raw is the exact body that was verified.
	Raw []byte `json:"-"`

	callEnded    *CallEnded // decoded once by the receiver
	callEndedErr error
}

// DecodeData unmarshals Data into v (your own struct for events whose
// fields SIVO does not document).
func (e *Event) DecodeData(v any) error {
	if len(e.Data) == 0 || string(e.Data) == "null" {
		return fmt.Errorf("sivo: %s event %s has no data", e.Type, e.ID)
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("sivo: decoding %s data of event %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// CallEnded is the data of a call.ended event (the call detail record).
//
// Numbers accept a JSON number or a numeric string.
type CallEnded struct {
	// CallID identifies the call.
	CallID string `json:"callId"`
	// Direction is DirectionInbound or DirectionOutbound.
	Direction string `json:"direction"`
	// From and To are the numbers.
	From string `json:"from"`
	To   string `json:"to"`
	// DurationSec is the call's length in seconds.
	DurationSec webhook.Int `json:"duration_sec"`
	// AgentID and QueueID identify who took the call and from where.
	AgentID string `json:"agentId"`
	QueueID string `json:"queueId"`
	// MOSScore is the call quality (mean opinion score).
	MOSScore webhook.Float `json:"mosScore"`
	// HangupCause is why the call ended.
	HangupCause string `json:"hangupCause"`
}

// Call directions.
const (
	DirectionInbound  = "inbound"
	DirectionOutbound = "outbound"
)

// CallEnded decodes the data of a call.ended event.
func (e *Event) CallEnded() (*CallEnded, error) {
	if e.callEnded != nil || e.callEndedErr != nil {
		return e.callEnded, e.callEndedErr
	}
	if e.Type != EventCallEnded {
		return nil, fmt.Errorf("sivo: event %s is %s, not %s", e.ID, e.Type, EventCallEnded)
	}
	var c CallEnded
	if err := e.DecodeData(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// ParseEvent decodes an envelope and keeps body as Raw. It needs id and
// type; it does not verify anything.
func ParseEvent(body []byte) (*Event, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("sivo: decoding event: %w", err)
	}
	if e.ID == "" {
		return nil, fmt.Errorf("sivo: event has no id")
	}
	if e.Type == "" {
		return nil, fmt.Errorf("sivo: event %s has no type", e.ID)
	}
	e.Raw = body
	return &e, nil
}
