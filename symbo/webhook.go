package symbo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

// HeaderSignature carries hex(HMAC-SHA256(webhook_secret, raw body)).
const HeaderSignature = "X-Hmac-Signature"

// CallFunc handles a call event; an error answers 500 so Symbo retries.
type CallFunc func(ctx context.Context, ev *CallEvent) error

// Callbacks route events to functions; nil callbacks acknowledge.
type Callbacks struct {
	CallCreated            CallFunc
	CallCompleted          CallFunc
	CallUpdated            CallFunc
	CallRecordingCompleted CallFunc
	// ProspectCreated receives the raw event: Symbo documents no Prospect
	// payload.
	ProspectCreated webhook.HandlerFunc
	// Unknown receives other event names with the raw bytes.
	Unknown webhook.HandlerFunc
}

// WebhookOption configures NewWebhookHandler.
type WebhookOption func(*whConfig) error

type whConfig struct {
	secrets []string
	dedupe  webhook.Deduper
	logger  *slog.Logger
	onError func(*http.Request, error)
	maxBody int64
}

// WithRotatedSecret accepts a second secret during a rotation.
func WithRotatedSecret(s string) WebhookOption {
	return func(c *whConfig) error { c.secrets = append(c.secrets, s); return nil }
}

// WithDedupe processes each event id once (Symbo retries failed deliveries).
func WithDedupe(d webhook.Deduper) WebhookOption {
	return func(c *whConfig) error {
		if d == nil {
			return fmt.Errorf("%w: dedupe store is nil", webhook.ErrInvalidOption)
		}
		c.dedupe = d
		return nil
	}
}

// WithLogger logs refused and failed deliveries (no bodies, no secrets).
func WithLogger(l *slog.Logger) WebhookOption {
	return func(c *whConfig) error { c.logger = l; return nil }
}

// WithErrorHook receives every refused or failed delivery's error.
func WithErrorHook(fn func(*http.Request, error)) WebhookOption {
	return func(c *whConfig) error { c.onError = fn; return nil }
}

// WithMaxBodyBytes sets the body limit (default 1 MiB).
func WithMaxBodyBytes(n int64) WebhookOption {
	return func(c *whConfig) error { c.maxBody = n; return nil }
}

// NewWebhookHandler verifies X-Hmac-Signature over the raw body and routes
// call events by their (normalised) description.
func NewWebhookHandler(secret string, cb Callbacks, opts ...WebhookOption) (http.Handler, error) {
	c := whConfig{secrets: []string{secret}, maxBody: webhook.DefaultMaxBodyBytes}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	v, err := webhook.NewHMAC(HeaderSignature, "", c.secrets...)
	if err != nil {
		return nil, fmt.Errorf("symbo: %w", err)
	}
	mwOpts := []webhook.MiddlewareOption{webhook.WithMaxBodyBytes(c.maxBody), webhook.WithErrorHook(c.onError), webhook.WithLogger(c.logger)}
	if c.dedupe != nil {
		mwOpts = append(mwOpts, webhook.WithDedupe(c.dedupe, webhook.JSONKey("id")))
	}
	mw, err := webhook.Middleware(v, mwOpts...)
	if err != nil {
		return nil, err
	}
	d := webhook.NewDispatcher(func(_ *http.Request, body []byte) (string, error) {
		var env struct {
			Description string `json:"description"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			return "", fmt.Errorf("%w: %v", webhook.ErrMalformed, err)
		}
		return NormalizeEvent(env.Description), nil
	})
	call := func(fn CallFunc) func(context.Context, *CallEvent, *webhook.Event) error {
		return func(ctx context.Context, ev *CallEvent, raw *webhook.Event) error {
			if fn == nil {
				return nil
			}
			ev.Raw = raw.Raw
			return fn(ctx, ev)
		}
	}
	webhook.Handle(d, EventCallCreated, call(cb.CallCreated))
	webhook.Handle(d, EventCallCompleted, call(cb.CallCompleted))
	webhook.Handle(d, EventCallUpdated, call(cb.CallUpdated))
	webhook.Handle(d, EventCallRecordingCompleted, call(cb.CallRecordingCompleted))
	if cb.ProspectCreated != nil {
		d.HandleRaw(EventProspectCreated, cb.ProspectCreated)
	}
	if cb.Unknown != nil {
		d.Unknown(cb.Unknown)
	}
	d.OnError(c.onError)
	d.SetLogger(c.logger)
	return mw(d), nil
}

// CallStates keeps the latest state of each call by its id, whatever order
// created / completed / updated events arrive in. Safe for concurrent use.
type CallStates struct{ l *webhook.Latest[*CallEvent] }

// NewCallStates returns an empty CallStates.
func NewCallStates() *CallStates { return &CallStates{l: webhook.NewLatest[*CallEvent]()} }

// Apply records ev if it is newer than what is held for its call and
// reports whether it was applied (false: stale or unordered, dropped).
func (s *CallStates) Apply(ev *CallEvent) bool {
	if ev.Data.ID == "" {
		return false
	}
	v, ok := ev.Version()
	if !ok {
		return false
	}
	return s.l.Update(ev.Data.ID, v, ev)
}

// Get returns the latest event held for a call id.
func (s *CallStates) Get(callID string) (*CallEvent, time.Time, bool) { return s.l.Get(callID) }
