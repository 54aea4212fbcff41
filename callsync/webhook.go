package callsync

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

// HeaderSignature carries hex(HMAC-SHA256(secret, raw body)).
const HeaderSignature = "X-CallSync-Signature"

// DefaultDedupeTTL is how long payload ids are remembered by default.
const DefaultDedupeTTL = 24 * time.Hour

// Func handles an event; an error answers 500 so CallSync can retry.
type Func func(ctx context.Context, ev *Event) error

// Callbacks route events; nil callbacks acknowledge their events.
type Callbacks struct {
	CallLogged       Func
	RecordingUpdated Func
	AIAnalysis       Func
	CallerUpdated    Func
	// Unknown receives any other event with the raw bytes.
	Unknown webhook.HandlerFunc
}

// Option configures NewHandler.
type Option func(*config) error

type config struct {
	secrets []string
	dedupe  webhook.Deduper
	logger  *slog.Logger
	onError func(*http.Request, error)
	maxBody int64
	clock   webhook.Clock
}

// WithRotatedSecret accepts a second secret during a rotation.
func WithRotatedSecret(s string) Option {
	return func(c *config) error { c.secrets = append(c.secrets, s); return nil }
}

// WithDedupe replaces the in-memory payload_id store (use a shared one
// across replicas).
func WithDedupe(d webhook.Deduper) Option {
	return func(c *config) error {
		if d == nil {
			return fmt.Errorf("%w: dedupe store is nil", webhook.ErrInvalidOption)
		}
		c.dedupe = d
		return nil
	}
}

// WithLogger logs refused and failed deliveries (no bodies, no secrets).
func WithLogger(l *slog.Logger) Option { return func(c *config) error { c.logger = l; return nil } }

// WithErrorHook receives every refused or failed delivery's error.
func WithErrorHook(fn func(*http.Request, error)) Option {
	return func(c *config) error { c.onError = fn; return nil }
}

// WithMaxBodyBytes sets the body limit (default 1 MiB).
func WithMaxBodyBytes(n int64) Option { return func(c *config) error { c.maxBody = n; return nil } }

// WithClock sets the clock of the default dedupe store (tests).
func WithClock(clk webhook.Clock) Option { return func(c *config) error { c.clock = clk; return nil } }

// NewHandler verifies X-CallSync-Signature, deduplicates by payload_id and
// routes events by their "event" field.
func NewHandler(secret string, cb Callbacks, opts ...Option) (http.Handler, error) {
	c := config{secrets: []string{secret}, maxBody: webhook.DefaultMaxBodyBytes}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	v, err := webhook.NewHMAC(HeaderSignature, "", c.secrets...)
	if err != nil {
		return nil, fmt.Errorf("callsync: %w", err)
	}
	if c.dedupe == nil {
		var mo []webhook.MemoryOption
		if c.clock != nil {
			mo = append(mo, webhook.WithDedupeClock(c.clock))
		}
		if c.dedupe, err = webhook.NewMemoryDedupe(DefaultDedupeTTL, mo...); err != nil {
			return nil, err
		}
	}
	mw, err := webhook.Middleware(v, webhook.WithMaxBodyBytes(c.maxBody), webhook.WithDedupe(c.dedupe, webhook.JSONKey("payload_id")),
		webhook.WithErrorHook(c.onError), webhook.WithLogger(c.logger))
	if err != nil {
		return nil, err
	}
	d := webhook.NewDispatcher(webhook.JSONTypeField("event"))
	route := func(fn Func) func(context.Context, *Event, *webhook.Event) error {
		return func(ctx context.Context, ev *Event, raw *webhook.Event) error {
			if fn == nil {
				return nil
			}
			ev.Raw = raw.Raw
			return fn(ctx, ev)
		}
	}
	webhook.Handle(d, EventCallLogged, route(cb.CallLogged))
	webhook.Handle(d, EventRecordingUpdated, route(cb.RecordingUpdated))
	webhook.Handle(d, EventAIAnalysis, route(cb.AIAnalysis))
	webhook.Handle(d, EventCallerUpdated, route(cb.CallerUpdated))
	if cb.Unknown != nil {
		d.Unknown(cb.Unknown)
	}
	d.OnError(c.onError)
	d.SetLogger(c.logger)
	return mw(d), nil
}
