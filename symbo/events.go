package symbo

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

// EventType is a Symbo event name, in the colon spelling of Symbo's
// webhooks guide (NormalizeEvent maps the older dot spelling to it).
type EventType string

// Event types Symbo documents.
const (
	EventCallCreated            EventType = "call:created"
	EventCallCompleted          EventType = "call:completed"
	EventCallUpdated            EventType = "call:updated"
	EventCallRecordingCompleted EventType = "call:recording-completed"
	EventProspectCreated        EventType = "prospect:created"
	// EventCallContactLookup is the dialer's contact lookup, a GET that
	// NewLookupHandler serves; it never arrives as a webhook.
	EventCallContactLookup EventType = "call:contactlookup"
)

// NormalizeEvent maps an event name as sent to the webhooks guide's
// colon spelling by its documented meaning. "call.created" is the older
// article's name for an event that "occurs immediately after a call is
// completed", so it becomes EventCallCompleted; other dot spellings
// ("call.updated") become their colon form; colon names are returned
// unchanged.
func NormalizeEvent(name string) EventType {
	if name == "call.created" {
		return EventCallCompleted
	}
	if i := strings.IndexByte(name, '.'); i > 0 && !strings.Contains(name, ":") {
		return EventType(name[:i] + ":" + name[i+1:])
	}
	return EventType(name)
}

// CallEvent is the envelope of a call activity webhook.
type CallEvent struct {
	// ID identifies the webhook event.
	ID string `json:"id"`
	// Object is the payload kind ("Call").
	Object string `json:"object"`
	// Type is the event type: Description (or, without one, the "event"
	// field) by its documented meaning (NormalizeEvent).
	Type EventType `json:"-"`
	// Description is the event name as sent ("call.created" or
	// "call:created").
	Description string `json:"description"`
	// UserID is the Symbo user whose action triggered the event.
	UserID string `json:"user_id"`
	// CreatedAt is when the event was created; Symbo's own sample has a
	// malformed value here, kept in CreatedAt.Raw.
	CreatedAt webhook.Time `json:"created_at"`
	// Data is the call.
	Data Call `json:"data"`
	// Raw is the exact body that was verified.
	Raw []byte `json:"-"`
}

// UnmarshalJSON decodes the event and sets Type.
func (e *CallEvent) UnmarshalJSON(b []byte) error { return e.decode(b) }

// plainCallEvent is CallEvent without its UnmarshalJSON.
type plainCallEvent CallEvent

// decode is UnmarshalJSON in one pass over b (the "event" field, read
// when there is no description, decoded alongside).
func (e *CallEvent) decode(b []byte) error {
	w := struct {
		*plainCallEvent
		Event string `json:"event"`
	}{plainCallEvent: (*plainCallEvent)(e)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	name := e.Description
	if name == "" {
		name = w.Event
	}
	e.Type = NormalizeEvent(name)
	return nil
}

// UnparsedTimes lists the timestamp fields whose values did not parse, by
// JSON name, so callers can report them.
func (e *CallEvent) UnparsedTimes() []string {
	var out []string
	check := func(name string, t webhook.Time) {
		if t.Unparsed() {
			out = append(out, name)
		}
	}
	check("created_at", e.CreatedAt)
	d := &e.Data
	check("data.answered_at", d.AnsweredAt)
	check("data.completed_at", d.CompletedAt)
	check("data.created_at", d.CreatedAt)
	check("data.dialed_at", d.DialedAt)
	check("data.state_changed_at", d.StateChangedAt)
	check("data.transcription_completed_at", d.TranscriptionCompletedAt)
	check("data.updated_at", d.UpdatedAt)
	return out
}

// Call is Symbo's Call object.
type Call struct {
	ID                              string       `json:"id"`
	Prospect                        Prospect     `json:"prospect"`
	AnsweredAt                      webhook.Time `json:"answered_at"`
	CallDisposition                 string       `json:"call_disposition"`
	CompletedAt                     webhook.Time `json:"completed_at"`
	CreatedAt                       webhook.Time `json:"created_at"`
	DialedAt                        webhook.Time `json:"dialed_at"`
	Direction                       string       `json:"direction"`
	From                            string       `json:"from"`
	FromFormatted                   string       `json:"from_formatted"`
	Note                            string       `json:"note"`
	RecordingURL                    string       `json:"recording_url"`
	ShouldRecordCall                string       `json:"should_record_call"`
	State                           string       `json:"state"`
	StateChangedAt                  webhook.Time `json:"state_changed_at"`
	To                              string       `json:"to"`
	ToFormatted                     string       `json:"to_formatted"`
	Transcription                   string       `json:"transcription"`
	TranscriptionCompletedAt        webhook.Time `json:"transcription_completed_at"`
	TotalTalkTimeMillis             int64        `json:"total_talk_time_millis"`
	TotalConversationDurationMillis int64        `json:"total_conversation_duration_millis"`
	RepTalkTimeMillis               int64        `json:"rep_talk_time_millis"`
	ProspectTalkTimeMillis          int64        `json:"prospect_talk_time_millis"`
	RepOverallSentiment             float64      `json:"rep_overall_sentiment"`
	ProspectOverallSentiment        float64      `json:"prospect_overall_sentiment"`
	RepWordsPerMinute               float64      `json:"rep_words_per_minute"`
	ProspectWordsPerMinute          float64      `json:"prospect_words_per_minute"`
	TotalSilenceTimeMillis          int64        `json:"total_silence_time_millis"`
	UpdatedAt                       webhook.Time `json:"updated_at"`
}

// Prospect is the person called, with the CRM's external id.
type Prospect struct {
	ID             string `json:"id"`
	ExternalID     string `json:"external_id"`
	ExternalSource string `json:"external_source"`
	FirstName      string `json:"first_name"`
	FullName       string `json:"full_name"`
	LastName       string `json:"last_name"`
	LinkedInURL    string `json:"linkedin_url"`
	Title          string `json:"title"`
}

// Version returns the best timestamp for ordering updates to this call:
// updated_at, else state_changed_at, else completed_at, else created_at,
// else the event's created_at. ok is false when none parsed.
func (e *CallEvent) Version() (t time.Time, ok bool) {
	for _, c := range []webhook.Time{e.Data.UpdatedAt, e.Data.StateChangedAt, e.Data.CompletedAt, e.Data.CreatedAt, e.CreatedAt} {
		if c.Valid {
			return c.Time, true
		}
	}
	return time.Time{}, false
}

// ParseCallEvent decodes a call event and keeps body as Raw. One bad
// timestamp does not fail the decode (see UnparsedTimes).
func ParseCallEvent(body []byte) (*CallEvent, error) {
	var e CallEvent
	if err := e.decode(body); err != nil {
		return nil, fmt.Errorf("symbo: decoding call event: %w", err)
	}
	e.Raw = body
	return &e, nil
}
