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
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/webhook"
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
	s := strings.Replace(CallLoggedSample, `"event": "call_logged"`, `"event": "`+string(event)+`"`, 1)
	return []byte(strings.Replace(s, `"payload_id": "wh_live_call_logged"`, `"payload_id": "`+payloadID+`"`, 1))
}

// Sender signs and delivers CallSync events.
type Sender struct {
	signer *webhook.HMACSigner
	// Client is used for URL deliveries (nil: http.DefaultClient).
	Client *http.Client
}

// NewSender returns a Sender for the endpoint's webhook secret.
func NewSender(secret string) (*Sender, error) {
	s, err := webhook.NewHMACSigner(callsync.HeaderSignature, "", secret)
	if err != nil {
		return nil, err
	}
	return &Sender{signer: s}, nil
}

// Sign returns every header CallSync sends with body: Content-Type and
// X-CallSync-Signature.
func (s *Sender) Sign(body []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	_ = s.signer.SignHeader(h, body)
	return h
}

// Request builds the signed POST CallSync would send to url.
func (s *Sender) Request(ctx context.Context, url string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = s.Sign(body)
	return req, nil
}

// Deliver POSTs body to url over HTTP and returns the status.
func (s *Sender) Deliver(ctx context.Context, url string, body []byte) (int, error) {
	req, err := s.Request(ctx, url, body)
	if err != nil {
		return 0, err
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Serve delivers body to h in process and returns the status.
func (s *Sender) Serve(h http.Handler, body []byte) int {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/callsync", bytes.NewReader(body))
	req.Header = s.Sign(body)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}
