package siro

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

// Webhook event types.
const (
	EventRecordingProcessed = "integrations.recordingProcessed"
	EventRecordingLinked    = "integrations.recordingLinked"
)

// RecordingEvent is the payload of both Siro webhooks. Each reports the
// current state of both flags.
type RecordingEvent struct {
	RecordingID        string    `json:"recordingId"`
	SiroUserID         string    `json:"siroUserId"`
	RecordingProcessed bool      `json:"recordingProcessed"`
	RecordingLinked    bool      `json:"recordingLinked"`
	EventType          string    `json:"eventType"`
	CRM                *CRMLinks `json:"crm"`
	// Raw is the exact verified body.
	Raw []byte `json:"-"`
	// Delivery is the verified Svix delivery (svix-id, timestamp).
	Delivery webhook.Delivery `json:"-"`
}

// Ready reports the guide's rule: act only when both flags are true.
func (e *RecordingEvent) Ready() bool { return e.RecordingProcessed && e.RecordingLinked }

// ReadyRecording is what the main callback receives once per recording.
type ReadyRecording struct {
	// Event is the delivery that completed the pair.
	Event *RecordingEvent
	// Details holds the summary and entity extractions when the handler was
	// given a client (WithFetchDetails); nil otherwise.
	Details *RecordingDetails
}

// WebhookCallbacks route Siro's webhooks. OnReady is the main one.
type WebhookCallbacks struct {
	// OnReady fires exactly once per recording when it is both processed
	// and linked, whichever event arrives last. An error answers 500 and
	// the recording is not marked done, so Svix's redelivery goes through.
	OnReady func(ctx context.Context, r *ReadyRecording) error
	// OnProcessed and OnLinked receive each raw event (once per Svix
	// delivery; again if a delivery is retried after a failure).
	OnProcessed func(ctx context.Context, e *RecordingEvent) error
	OnLinked    func(ctx context.Context, e *RecordingEvent) error
	// OnUnknown receives other event types with the raw bytes.
	OnUnknown func(ctx context.Context, raw []byte) error
}

// WebhookOption configures NewWebhookHandler.
type WebhookOption func(*whConfig) error

type whConfig struct {
	verifyOpts []webhook.StandardOption
	ready      webhook.Deduper
	deliveries webhook.Deduper
	client     *Client
	logger     *slog.Logger
	onError    func(*http.Request, error)
	clk        Clock
}

// WithFetchDetails makes the handler fetch the recording's details with
// summary and entity extractions (user API, one round trip) before calling
// OnReady. The client needs a user credential (WithOAuthApp, ...).
func WithFetchDetails(c *Client) WebhookOption {
	return func(w *whConfig) error {
		if c == nil {
			return fmt.Errorf("%w: client is nil", ErrInvalidOption)
		}
		w.client = c
		return nil
	}
}

// WithReadyDedupe sets the store that remembers which recordings fired
// (default in memory, 7 days). Use a shared store with several replicas.
func WithReadyDedupe(d webhook.Deduper) WebhookOption {
	return func(w *whConfig) error { w.ready = d; return nil }
}

// WithDeliveryDedupe sets the store of processed svix-ids (default in
// memory, 3 days: Svix retries for about a day and a half).
func WithDeliveryDedupe(d webhook.Deduper) WebhookOption {
	return func(w *whConfig) error { w.deliveries = d; return nil }
}

// WithWebhookVerifyOptions passes options to the Standard Webhooks verifier
// (webhook.WithTolerance, webhook.WithClock).
func WithWebhookVerifyOptions(opts ...webhook.StandardOption) WebhookOption {
	return func(w *whConfig) error { w.verifyOpts = append(w.verifyOpts, opts...); return nil }
}

// WithWebhookLogger logs refused and failed deliveries.
func WithWebhookLogger(l *slog.Logger) WebhookOption {
	return func(w *whConfig) error { w.logger = l; return nil }
}

// WithWebhookErrorHook receives every refused or failed delivery's error.
func WithWebhookErrorHook(fn func(*http.Request, error)) WebhookOption {
	return func(w *whConfig) error { w.onError = fn; return nil }
}

// WithWebhookClock sets the clock of the default dedupe stores (tests).
func WithWebhookClock(c Clock) WebhookOption {
	return func(w *whConfig) error { w.clk = c; return nil }
}

// NewWebhookHandler verifies Siro's Svix-signed webhooks with the endpoint's
// signing secrets ("whsec_...", several during a rotation) and routes them.
func NewWebhookHandler(secrets []string, cb WebhookCallbacks, opts ...WebhookOption) (http.Handler, error) {
	var c whConfig
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.clk != nil {
		c.verifyOpts = append([]webhook.StandardOption{webhook.WithClock(c.clk)}, c.verifyOpts...)
	}
	v, err := webhook.NewStandard(secrets, c.verifyOpts...)
	if err != nil {
		return nil, fmt.Errorf("siro: %w", err)
	}
	var mo []webhook.MemoryOption
	if c.clk != nil {
		mo = append(mo, webhook.WithDedupeClock(c.clk))
	}
	if c.ready == nil {
		if c.ready, err = webhook.NewMemoryDedupe(7*24*time.Hour, mo...); err != nil {
			return nil, err
		}
	}
	if c.deliveries == nil {
		if c.deliveries, err = webhook.NewMemoryDedupe(72*time.Hour, mo...); err != nil {
			return nil, err
		}
	}
	mw, err := webhook.Middleware(v, webhook.WithDedupe(c.deliveries, webhook.DeliveryIDKey),
		webhook.WithErrorHook(c.onError), webhook.WithLogger(c.logger))
	if err != nil {
		return nil, err
	}
	h := &whHandler{cfg: c, cb: cb}
	return mw(h), nil
}

type whHandler struct {
	cfg whConfig
	cb  WebhookCallbacks
}

func (h *whHandler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if h.cfg.onError != nil {
		h.cfg.onError(r, err)
	}
	if h.cfg.logger != nil {
		h.cfg.logger.LogAttrs(r.Context(), slog.LevelError, "siro: webhook not processed", slog.Int("status", status), slog.String("error", err.Error()))
	}
	http.Error(w, http.StatusText(status), status)
}

func (h *whHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := webhook.ReadBody(w, r, webhook.DefaultMaxBodyBytes)
	if err != nil {
		h.fail(w, r, webhook.StatusCode(err), err)
		return
	}
	var ev RecordingEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		h.fail(w, r, http.StatusBadRequest, fmt.Errorf("siro: decoding webhook: %w", err))
		return
	}
	ev.Raw = body
	ev.Delivery, _ = webhook.DeliveryFrom(ctx)
	var raw func(context.Context, *RecordingEvent) error
	switch ev.EventType {
	case EventRecordingProcessed:
		raw = h.cb.OnProcessed
	case EventRecordingLinked:
		raw = h.cb.OnLinked
	default:
		if h.cb.OnUnknown != nil {
			if err := h.cb.OnUnknown(ctx, body); err != nil {
				h.fail(w, r, http.StatusInternalServerError, err)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if ev.RecordingID == "" {
		h.fail(w, r, http.StatusBadRequest, errors.New("siro: webhook has no recordingId"))
		return
	}
	if raw != nil {
		if err := raw(ctx, &ev); err != nil {
			h.fail(w, r, http.StatusInternalServerError, fmt.Errorf("siro: %s callback: %w", ev.EventType, err))
			return
		}
	}
	if !ev.Ready() || h.cb.OnReady == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	key := "ready:" + ev.RecordingID
	if err := h.cfg.ready.Reserve(ctx, key); err != nil {
		switch {
		case errors.Is(err, webhook.ErrDuplicate):
			w.WriteHeader(http.StatusOK) // already handed to OnReady
		case errors.Is(err, webhook.ErrInProgress):
			h.fail(w, r, http.StatusConflict, err) // the other event is being handled; Svix retries
		default:
			h.fail(w, r, http.StatusInternalServerError, err)
		}
		return
	}
	rr := &ReadyRecording{Event: &ev}
	err = nil
	if h.cfg.client != nil {
		rr.Details, err = h.cfg.client.GetRecordingDetails(ctx, ev.RecordingID, &RecordingDetailsShow{ShowSummary: true, ShowEntityExtractions: true})
		if err != nil {
			err = fmt.Errorf("siro: fetching recording %s: %w", ev.RecordingID, err)
		}
	}
	if err == nil {
		err = h.cb.OnReady(ctx, rr)
	}
	bg := context.WithoutCancel(ctx)
	if err != nil {
		_ = h.cfg.ready.Release(bg, key)
		h.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if err := h.cfg.ready.Commit(bg, key); err != nil {
		h.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
