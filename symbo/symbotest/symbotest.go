// Package symbotest builds Symbo call events, signs them exactly as Symbo
// does (hex HMAC-SHA256 of the raw body in X-Hmac-Signature), delivers them
// to a URL or an http.Handler, and dials your contact-lookup endpoint the
// way Symbo does, so you can test a receiver without Symbo.
//
//	h, err := symbo.NewHandler([]string{secret}, symbo.Callbacks{CallCompleted: onCall})
//	if err != nil {
//		t.Fatal(err)
//	}
//	s, err := symbotest.NewSender(secret)
//	if err != nil {
//		t.Fatal(err)
//	}
//	body := symbotest.Event("evt_1", symbo.EventCallCompleted, symbo.Call{})
//	if code := s.Serve(h, body); code != http.StatusOK {
//		t.Fatalf("status %d", code)
//	}
package symbotest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/internal/testkit"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
)

// DocSample is the call event from Symbo's "Integrate Custom CRM with
// Dialer" article, as JSON, including its malformed created_at.
const DocSample = `{
  "id": "ecc25304-ad56-4f73-b75c-77f3165c6c65",
  "object": "Call",
  "description": "call.created",
  "user_id": "35904adb-e732-4ee7-a450-a87dfbe8a7f5",
  "created_at": "023-01-11T20:19:40.000Z",
  "data": {
    "prospect": {
      "id": "f0111f41-53c5-4d39-bfa1-447caa17b732",
      "external_id": "12345",
      "external_source": "custom_crm",
      "first_name": "Sally",
      "full_name": "Sally Sample",
      "last_name": "Sample",
      "linkedin_url": "",
      "title": "Sales Manager"
    },
    "id": "2dc92583-0376-469b-9909-3a020b75d777",
    "answered_at": "2023-01-11T20:19:25.000Z",
    "call_disposition": "answered_positive",
    "completed_at": "2023-01-11T20:19:29.000Z",
    "created_at": "2023-01-11T20:19:25.000Z",
    "dialed_at": "2023-01-11T20:19:25.000Z",
    "direction": "outbound",
    "from": "+19897189159",
    "from_formatted": "+1 989 718 9159",
    "note": "User entered call note",
    "recording_url": "",
    "should_record_call": "record",
    "state": "completed",
    "state_changed_at": "2023-01-11T20:19:29.000Z",
    "to": "+15178626434",
    "to_formatted": "+1 517 862 6434",
    "transcription": "Rep Name:<br>This is a test.<br><br>Prospect:<br>Hey.<br><br>",
    "transcription_completed_at": "2022-10-21T17:35:20.000Z",
    "total_talk_time_millis": 1399,
    "total_conversation_duration_millis": 2170,
    "rep_talk_time_millis": 830,
    "prospect_talk_time_millis": 569,
    "rep_overall_sentiment": 0,
    "prospect_overall_sentiment": 0,
    "rep_words_per_minute": 72,
    "prospect_words_per_minute": 105,
    "total_silence_time_millis": 0,
    "updated_at": "2022-10-21T17:35:20.000Z"
  }
}`

// NewSender returns a Sender for Symbo's webhook_secret: it sets
// X-Hmac-Signature and Content-Type. Symbo says it retries a failed
// delivery but documents no schedule, so Replay makes one attempt.
func NewSender(secret string) (*webhooktest.Sender, error) {
	s, err := webhook.NewHMACSigner(symbo.HeaderSignature, "", secret)
	if err != nil {
		return nil, err
	}
	// Symbo documents a JSON POST, not its Content-Type: the fake sends application/json.
	return webhooktest.NewSender(s.SignHeader, "/webhooks/symbo", []time.Duration{0}), nil
}

// sampleCreatedAt is the event time Event uses when the call has none.
var sampleCreatedAt = webhook.NewTime(time.Date(2023, 1, 11, 20, 19, 40, 0, time.UTC))

// DefaultUserID is the user_id of the events Event builds.
const DefaultUserID = "user-1"

// Event marshals a call event with the given name ("call:created",
// "call.created", ...) and call, triggered by DefaultUserID; created_at
// is the call's created_at, or a fixed time, never null.
func Event(id string, name symbo.EventType, call symbo.Call) []byte {
	return EventBy(DefaultUserID, id, name, call)
}

// EventBy is Event triggered by the Symbo user userID (the envelope's
// user_id: Symbo sends the user whose action triggered the webhook).
func EventBy(userID, id string, name symbo.EventType, call symbo.Call) []byte {
	createdAt := call.CreatedAt
	if !createdAt.Valid && createdAt.Raw == "" {
		createdAt = sampleCreatedAt
	}
	// Symbo's JSON (Node) keeps "<", ">" and "&" as is, as in its
	// transcription's "<br>"; Go's default escaping would not.
	b, _ := testkit.MarshalJS(struct {
		ID          string       `json:"id"`
		Object      string       `json:"object"`
		Description string       `json:"description"`
		UserID      string       `json:"user_id"`
		CreatedAt   webhook.Time `json:"created_at"`
		Data        symbo.Call   `json:"data"`
	}{id, "Call", string(name), userID, createdAt, call}, "") // strings, numbers and times always encode
	return b
}

// Dialer calls a contact-lookup endpoint the way Symbo's dialer does when
// a call starts. Safe for concurrent use.
type Dialer struct {
	signer *webhook.HMACSigner
	// Client is used for lookups (nil: http.DefaultClient).
	Client *http.Client
	// EmptyBodySignature signs the empty body instead of the raw query:
	// Symbo's documentation, read literally, signs "the request body
	// string", and a GET has none. The lookup handler accepts such a
	// signature only with symbo.InsecureAcceptEmptyBodySignature; set this
	// to test that your handler is configured for an account that signs
	// this way.
	EmptyBodySignature bool
}

// NewDialer returns a Dialer signing with Symbo's webhook_secret.
func NewDialer(secret string) (*Dialer, error) {
	s, err := webhook.NewHMACSigner(symbo.HeaderSignature, "", secret)
	if err != nil {
		return nil, err
	}
	return &Dialer{signer: s}, nil
}

// Lookup calls a contact-lookup endpoint the way Symbo does, signed:
// GET base?number=<E.164>, the "+" unescaped as in Symbo's example
// ("number=+18005551212"), with X-Hmac-Signature over the raw query string
// (Symbo does not document what it signs on a GET; this is what the
// lookup handler's strict default accepts), or over the empty body with
// EmptyBodySignature. It returns the status and, on
// 200, the contact.
//
// A Dialer not built by NewDialer has no secret: its Lookup returns an
// error rather than call unsigned (use the package's Lookup for that).
func (d *Dialer) Lookup(ctx context.Context, base, number string) (int, *symbo.Contact, error) {
	if d == nil || d.signer == nil {
		return 0, nil, errors.New("symbotest: Dialer has no secret: build it with NewDialer (symbotest.Lookup calls unsigned)")
	}
	return lookup(ctx, d.Client, base, number, d.signer, d.EmptyBodySignature)
}

// Lookup calls a contact-lookup endpoint unsigned (GET base?number=<E.164>,
// the "+" unescaped as Symbo sends it, with whatever token base carries)
// and returns the status and, on 200, the contact.
func Lookup(ctx context.Context, client *http.Client, base, number string) (int, *symbo.Contact, error) {
	return lookup(ctx, client, base, number, nil, false)
}

func lookup(ctx context.Context, client *http.Client, base, number string, signer *webhook.HMACSigner, emptyBody bool) (int, *symbo.Contact, error) {
	u, err := url.Parse(base)
	if err != nil {
		return 0, nil, err
	}
	// The dialled number replaces one in base; the rest of base's query
	// is kept as written (not re-encoded).
	var keep []string
	for _, pair := range strings.Split(u.RawQuery, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if k, err := url.QueryUnescape(key); pair == "" || (err == nil && k == "number") {
			continue
		}
		keep = append(keep, pair)
	}
	u.RawQuery = strings.Join(append(keep, ""), "&")
	// Symbo's example request is "?number=+18005551212": the "+" is sent
	// as is (a form decoder reads a space), not as %2B. Base's own query
	// is kept as written; where the number goes in it is not documented.
	u.RawQuery += "number=" + strings.ReplaceAll(url.QueryEscape(number), "%2B", "+")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	if signer != nil {
		signed := []byte(u.RawQuery)
		if emptyBody {
			signed = nil
		}
		_ = signer.SignHeader(req.Header, signed)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, nil
	}
	var c symbo.Contact
	if err := json.Unmarshal(body, &c); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("symbotest: decoding contact: %w", err)
	}
	return resp.StatusCode, &c, nil
}
