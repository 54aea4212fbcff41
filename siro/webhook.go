package siro

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/internal/receiverkit"
	"github.com/callcrm/callcrm-go/webhook"
)

// EventType is the "eventType" of a Siro webhook.
type EventType string

// Event types Siro documents.
const (
	EventRecordingProcessed EventType = "integrations.recordingProcessed"
	EventRecordingLinked    EventType = "integrations.recordingLinked"
)

// RecordingEvent is the payload of both Siro webhooks. Each reports the
// current state of both flags.
type RecordingEvent struct {
	RecordingID        string `json:"recordingId"`
	SiroUserID         string `json:"siroUserId"`
	RecordingProcessed bool   `json:"recordingProcessed"`
	RecordingLinked    bool   `json:"recordingLinked"`
	// Type is the event type (Siro's "eventType").
	Type EventType `json:"eventType"`
	CRM  *CRMLinks `json:"crm"`
	// Raw is the exact verified body.
	Raw []byte `json:"-"`
	// Delivery is the verified Svix delivery (svix-id, timestamp).
	Delivery webhook.Delivery `json:"-"`
}

// EngagementExternalID returns the CRM id of the engagement the recording
// is linked to; false when it is linked to none (an opportunity only, say).
func (e *RecordingEvent) EngagementExternalID() (string, bool) {
	if e == nil || e.CRM == nil || e.CRM.Engagement == nil || e.CRM.Engagement.ExternalID == "" {
		return "", false
	}
	return e.CRM.Engagement.ExternalID, true
}

// OpportunityExternalID returns the CRM id of the linked opportunity;
// false when there is none.
func (e *RecordingEvent) OpportunityExternalID() (string, bool) {
	if e == nil || e.CRM == nil || e.CRM.Opportunity == nil || e.CRM.Opportunity.ExternalID == "" {
		return "", false
	}
	return e.CRM.Opportunity.ExternalID, true
}

// AccountExternalID returns the CRM id of the linked account; false when
// there is none.
func (e *RecordingEvent) AccountExternalID() (string, bool) {
	if e == nil || e.CRM == nil || e.CRM.Account == nil || e.CRM.Account.ExternalID == "" {
		return "", false
	}
	return e.CRM.Account.ExternalID, true
}

// Ready reports the guide's rule: act only when both flags are true.
func (e *RecordingEvent) Ready() bool { return e.RecordingProcessed && e.RecordingLinked }

// ReadyRecording is what the Ready callback receives once per recording.
type ReadyRecording struct {
	// Event is the delivery that completed the pair.
	Event *RecordingEvent
	// Details holds the summary and entity extractions when the handler was
	// given a client (Callbacks.FetchDetails); nil otherwise.
	Details *RecordingDetails
}

// Callbacks route Siro's webhooks. Ready is the main one.
type Callbacks struct {
	// Ready fires exactly once per recording when it is both processed
	// and linked, whichever event arrives last, however often Svix
	// redelivers and on whichever replica (the "ready:<recordingId>" key
	// goes through the same dedupe store as deliveries). An error or a
	// panic answers 500 and the recording is not marked done, so Svix's
	// redelivery goes through.
	Ready func(ctx context.Context, r *ReadyRecording) error
	// RecordingProcessed and RecordingLinked receive each event (once per
	// Svix delivery; again if a delivery is retried after a failure).
	RecordingProcessed Func
	RecordingLinked    Func
	// Unknown receives other event types with the raw bytes.
	Unknown webhook.HandlerFunc
	// FetchDetails, if set, fetches the recording's details with summary
	// and entity extractions (user API, one round trip) with this client
	// before calling Ready, in ReadyRecording.Details. The client must
	// have a user credential (WithUserToken, WithUserTokenSource or
	// WithOAuthApp); NewHandler fails otherwise.
	FetchDetails *Client
}

// DefaultWebhookTimeout bounds a callback: inside the 15 s Svix gives an
// endpoint (Siro documents none of its own).
const DefaultWebhookTimeout = 10 * time.Second

// DefaultWebhookDedupeTTL is how long processed deliveries and ready
// recordings are remembered: past Svix's retry span (about a day and a
// half).
const DefaultWebhookDedupeTTL = 72 * time.Hour

// WebhookRetryHorizon is how long after a message's first attempt Svix,
// which delivers Siro's webhooks, may still retry it: its published
// schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: 27 h
// 35 min 5 s) plus seven 15 s attempt timeouts. Siro documents no
// schedule of its own. Each attempt is signed with a fresh svix-timestamp,
// so webhook.WithTolerance is not bounded by it; the dedupe TTL is.
const WebhookRetryHorizon = 27*time.Hour + 36*time.Minute + 50*time.Second

// Func handles one Siro event; an error answers 500 so Svix retries.
type Func func(ctx context.Context, e *RecordingEvent) error

// routes is the one table from event type to callback: an event type is
// known when it is here.
var routes = map[EventType]func(*Callbacks) Func{
	EventRecordingProcessed: func(c *Callbacks) Func { return c.RecordingProcessed },
	EventRecordingLinked:    func(c *Callbacks) Func { return c.RecordingLinked },
}

// Handler receives Siro's Svix-signed webhooks. It is an http.Handler;
// create it with NewHandler and stop it with Shutdown.
//
// It is the one webhook engine, configured for Siro: see webhook.Receiver
// for its methods (ServeHTTP, Shutdown, Stats, Process). Shutdown answers
// new deliveries 503, so Svix retries them.
type Handler = webhook.Receiver

// receiver configures the webhook engine with Siro's facts, for NewHandler
// (cb set) and Middleware (cb nil).
func receiver(where string, secrets []string, cb *Callbacks, opts []webhook.Option) (*webhook.Receiver, error) {
	vopts := webhook.VerifierOptions(opts...)
	var details *Client
	if cb != nil && cb.FetchDetails != nil {
		if !cb.FetchDetails.userCred {
			return nil, optErr(where, "Callbacks.FetchDetails: the client has no user API credential (WithUserToken, WithUserTokenSource or WithOAuthApp); recording details are a user API call")
		}
		details = cb.FetchDetails
	}
	rt := receiverkit.NewRouter(routes, cb, func(c *Callbacks) webhook.HandlerFunc { return c.Unknown })
	return receiverkit.Build(where, secrets, webhook.Spec[*RecordingEvent]{
		Provider:    "siro",
		NewVerifier: func(s []string) (webhook.Verifier, error) { return webhook.NewStandard(s, vopts...) },
		Timeout:     DefaultWebhookTimeout,
		DedupeTTL:   DefaultWebhookDedupeTTL,
		Headers:     []string{"Svix-Id", "Svix-Timestamp", "Svix-Signature", "Content-Type"},
		// Svix's horizon: the signed timestamp is per attempt, so the
		// engine does not bound WithTolerance by it (Time is nil).
		RetryHorizon: WebhookRetryHorizon,
		IDHeader:     "Svix-Id",
		Parse: func(wev *webhook.Event) (*RecordingEvent, error) {
			var ev RecordingEvent
			if err := json.Unmarshal(wev.Raw, &ev); err != nil {
				return nil, fmt.Errorf("siro: decoding webhook: %w", err)
			}
			wev.ID, wev.Type = wev.Delivery.ID, string(ev.Type)
			if _, known := routes[ev.Type]; known && ev.RecordingID == "" {
				return nil, fmt.Errorf("siro: %s webhook has no recordingId", ev.Type)
			}
			ev.Raw, ev.Delivery = wev.Raw, wev.Delivery
			return &ev, nil
		},
		Handle: func(ctx context.Context, wev *webhook.Event, ev *RecordingEvent, once webhook.Once) error {
			if known, err := rt.Route(ctx, wev, ev.Type, ev); !known || err != nil {
				return err
			}
			if !ev.Ready() || cb.Ready == nil {
				return nil
			}
			return once(ctx, "ready:"+ev.RecordingID, func(ctx context.Context) error {
				rr := &ReadyRecording{Event: ev}
				if details != nil {
					d, err := details.GetRecordingDetails(ctx, ev.RecordingID, &RecordingDetailsShow{ShowSummary: true, ShowEntityExtractions: true})
					if err != nil {
						return fmt.Errorf("siro: fetching recording %s: %w", ev.RecordingID, err)
					}
					rr.Details = d
				}
				return cb.Ready(ctx, rr)
			})
		},
	}, opts)
}

// NewHandler verifies Siro's Svix-signed webhooks with the endpoint's
// signing secrets ("whsec_...", several during a rotation) and routes them
// through the one webhook engine (see package webhook for the contract:
// 405, 413, 408, 400 malformed, 401 bad signature or a timestamp outside
// the 5-minute window; each svix-id processed once; 500 on a callback
// error or panic; 504 at the deadline, 10 s by default).
//
// Options are package webhook's (WithLogger, WithDedupe, WithClock,
// WithMaxBodyBytes, WithErrorHook, WithTimeout, WithInbox, WithName,
// WithTolerance, InsecureSkipTimestampCheck); Callbacks.FetchDetails
// makes Ready receive the recording's details.
func NewHandler(secrets []string, cb Callbacks, opts ...webhook.Option) (*Handler, error) {
	return receiver("NewHandler", secrets, &cb, opts)
}

// Middleware verifies and deduplicates Siro deliveries in front of your
// own handler, which gets the verified body on r.Body and the event from
// EventFrom(r.Context()); a 2xx from it marks the svix-id done. The
// "ready once per recording" rule is NewHandler's; with Middleware it is
// yours.
func Middleware(secrets []string, opts ...webhook.Option) (func(http.Handler) http.Handler, error) {
	return receiverkit.Middleware(receiver("Middleware", secrets, nil, opts))
}

// EventFrom returns the verified event Middleware put in the request
// context.
func EventFrom(ctx context.Context) (*RecordingEvent, bool) {
	return webhook.ParsedAs[*RecordingEvent](ctx)
}
