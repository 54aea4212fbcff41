package sivo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/webhook"
)

// Header names SIVO sends.
const (
	HeaderSignature = "X-Sivo-Signature"
	HeaderEventID   = "X-Sivo-Event-Id"
	HeaderEventType = "X-Sivo-Event-Type"
	// SignaturePrefix precedes the hex HMAC in HeaderSignature.
	SignaturePrefix = "sha256="
)

// Limits SIVO documents.
const (
	// MaxBodyBytes is SIVO's maximum body size (256 KB).
	MaxBodyBytes = 256 << 10
	// DefaultHandlerTimeout bounds a callback; SIVO counts a reply slower
	// than 10 s as a failure.
	DefaultHandlerTimeout = 8 * time.Second
	// DefaultDedupeTTL is how long processed event ids are remembered: well
	// past SIVO's retry span (about 1 h 15 min; 7 h by its product page).
	DefaultDedupeTTL = 24 * time.Hour
)

// Func handles an event; a non-nil error answers 500 so SIVO retries.
type Func func(ctx context.Context, ev *Event) error

// Callbacks route each event type to a function. A nil callback
// acknowledges its events. Unknown receives event types without a callback
// of their own, including types SIVO adds later.
type Callbacks struct {
	CallCreated        Func
	CallAnswered       Func
	CallTransferred    Func
	CallEnded          func(ctx context.Context, ev *Event, call *CallEnded) error
	CallRecorded       Func
	TranscriptSegment  Func
	TranscriptComplete Func
	QueueEntered       Func
	QueueAbandoned     Func
	AgentStatusChanged Func
	AgentPaused        Func
	IVRCompleted       Func
	AIAgentCompleted   Func
	// WebhookTest receives the test event SIVO sends when an endpoint is
	// saved; nil answers 200.
	WebhookTest Func
	// Unknown receives every other type, with the raw bytes on ev.Raw.
	Unknown Func
}

func (c *Callbacks) route(ev *Event) Func {
	var f Func
	switch ev.Type {
	case EventCallCreated:
		f = c.CallCreated
	case EventCallAnswered:
		f = c.CallAnswered
	case EventCallTransferred:
		f = c.CallTransferred
	case EventCallEnded:
		if c.CallEnded != nil {
			return func(ctx context.Context, ev *Event) error {
				call, err := ev.CallEnded()
				if err != nil {
					return err
				}
				return c.CallEnded(ctx, ev, call)
			}
		}
	case EventCallRecorded:
		f = c.CallRecorded
	case EventTranscriptSegment:
		f = c.TranscriptSegment
	case EventTranscriptComplete:
		f = c.TranscriptComplete
	case EventQueueEntered:
		f = c.QueueEntered
	case EventQueueAbandoned:
		f = c.QueueAbandoned
	case EventAgentStatusChanged:
		f = c.AgentStatusChanged
	case EventAgentPaused:
		f = c.AgentPaused
	case EventIVRCompleted:
		f = c.IVRCompleted
	case EventAIAgentCompleted:
		f = c.AIAgentCompleted
	case EventWebhookTest:
		f = c.WebhookTest
	default:
		f = c.Unknown
	}
	return f
}

// Option configures a Handler.
type Option func(*config) error

type config struct {
	secrets  []string
	dedupe   webhook.Deduper
	timeout  time.Duration
	maxBody  int64
	logger   *slog.Logger
	clock    webhook.Clock
	async    bool
	queue    int
	workers  int
	onAsync  func(ev *Event, err error)
	hookErrs func(r *http.Request, err error)
}

// WithRotatedSecret adds a second secret accepted during a rotation.
func WithRotatedSecret(secret string) Option {
	return func(c *config) error {
		if secret == "" {
			return fmt.Errorf("%w: rotated secret is empty", webhook.ErrInvalidSecret)
		}
		c.secrets = append(c.secrets, secret)
		return nil
	}
}

// WithDedupe sets the store of processed event ids (default: in memory,
// DefaultDedupeTTL). Use a shared store when several replicas receive.
func WithDedupe(d webhook.Deduper) Option {
	return func(c *config) error {
		if d == nil {
			return fmt.Errorf("%w: dedupe store is nil", webhook.ErrInvalidOption)
		}
		c.dedupe = d
		return nil
	}
}

// WithHandlerTimeout bounds each callback (default 8 s; it must stay under
// SIVO's 10 s delivery timeout in synchronous mode).
func WithHandlerTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: handler timeout %v must be positive", webhook.ErrInvalidOption, d)
		}
		c.timeout = d
		return nil
	}
}

// WithMaxBodyBytes lowers the body limit (default and maximum 256 KB).
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 || n > MaxBodyBytes {
			return fmt.Errorf("%w: max body %d must be in 1..%d", webhook.ErrInvalidOption, n, MaxBodyBytes)
		}
		c.maxBody = n
		return nil
	}
}

// WithLogger logs refused and failed deliveries (never bodies or secrets).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithClock sets the clock of the default dedupe store (tests).
func WithClock(clk webhook.Clock) Option {
	return func(c *config) error {
		if clk == nil {
			return fmt.Errorf("%w: clock is nil", webhook.ErrInvalidOption)
		}
		c.clock = clk
		return nil
	}
}

// WithErrorHook receives every delivery refused or failed, with its error.
func WithErrorHook(fn func(r *http.Request, err error)) Option {
	return func(c *config) error { c.hookErrs = fn; return nil }
}

// WithAsync answers 200 as soon as an event is queued and processes it on
// workers goroutines; a full queue answers 503 so SIVO retries. onError
// receives events whose callback failed (SIVO will not retry them: it was
// told 200), so you can store them. Call Shutdown to drain. Events in the
// queue are lost if the process dies: the synchronous default is the
// no-loss choice.
func WithAsync(queueSize, workers int, onError func(ev *Event, err error)) Option {
	return func(c *config) error {
		if queueSize <= 0 || workers <= 0 {
			return fmt.Errorf("%w: async queue size and workers must be positive", webhook.ErrInvalidOption)
		}
		c.async, c.queue, c.workers, c.onAsync = true, queueSize, workers, onError
		return nil
	}
}

// Handler is an http.Handler for SIVO webhooks. Create it with NewHandler.
type Handler struct {
	cfg  config
	cb   Callbacks
	http http.Handler

	mu       sync.RWMutex
	closed   bool
	queue    chan queued
	wg       sync.WaitGroup
	inflight sync.WaitGroup
}

type queued struct {
	ev *Event
}

// ErrShutdown is answered (503) for deliveries after Shutdown began.
var ErrShutdown = errors.New("sivo: handler is shutting down")

// NewHandler returns a Handler verifying with secret (SIVO's HMAC secret,
// used as raw bytes) and routing to cb.
func NewHandler(secret string, cb Callbacks, opts ...Option) (*Handler, error) {
	c := config{secrets: []string{secret}, timeout: DefaultHandlerTimeout, maxBody: MaxBodyBytes}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.timeout >= 10*time.Second && !c.async {
		return nil, fmt.Errorf("%w: handler timeout %v is not under SIVO's 10s delivery timeout", webhook.ErrInvalidOption, c.timeout)
	}
	v, err := webhook.NewHMAC(HeaderSignature, SignaturePrefix, c.secrets...)
	if err != nil {
		return nil, fmt.Errorf("sivo: %w", err)
	}
	if c.dedupe == nil {
		var mo []webhook.MemoryOption
		if c.clock != nil {
			mo = append(mo, webhook.WithDedupeClock(c.clock))
		}
		// The lease covers a callback that never returns.
		mo = append(mo, webhook.WithLease(c.timeout+time.Minute))
		if c.dedupe, err = webhook.NewMemoryDedupe(DefaultDedupeTTL, mo...); err != nil {
			return nil, err
		}
	}
	h := &Handler{cfg: c, cb: cb}
	mw, err := webhook.Middleware(v, webhook.WithMaxBodyBytes(c.maxBody), webhook.WithDedupe(c.dedupe, eventIDKey),
		webhook.WithErrorHook(c.hookErrs), webhook.WithLogger(c.logger))
	if err != nil {
		return nil, err
	}
	h.http = mw(http.HandlerFunc(h.serve))
	if c.async {
		h.queue = make(chan queued, c.queue)
		for i := 0; i < c.workers; i++ {
			h.wg.Add(1)
			go h.worker()
		}
	}
	return h, nil
}

// eventIDKey is the dedupe key: X-Sivo-Event-Id, or the body's id when
// the header is absent.
func eventIDKey(r *http.Request, _ webhook.Delivery, body []byte) (string, error) {
	if id := r.Header.Get(HeaderEventID); id != "" {
		return id, nil
	}
	return webhook.JSONKey("id")(r, webhook.Delivery{}, body)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.RLock()
	closed := h.closed
	if !closed {
		h.inflight.Add(1)
	}
	h.mu.RUnlock()
	if closed {
		h.fail(w, r, ErrShutdown, http.StatusServiceUnavailable)
		return
	}
	defer h.inflight.Done()
	h.http.ServeHTTP(w, r)
}

// serve runs after verification and dedupe reservation.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	body, err := webhook.ReadBody(w, r, h.cfg.maxBody)
	if err != nil {
		h.fail(w, r, err, webhook.StatusCode(err))
		return
	}
	ev, err := ParseEvent(body)
	if err != nil {
		h.fail(w, r, err, http.StatusBadRequest)
		return
	}
	if ht := r.Header.Get(HeaderEventType); ht != "" && ht != string(ev.Type) {
		h.fail(w, r, fmt.Errorf("sivo: %s is %q but the body's type is %q", HeaderEventType, ht, ev.Type), http.StatusBadRequest)
		return
	}
	if hid := r.Header.Get(HeaderEventID); hid != "" && hid != ev.ID {
		h.fail(w, r, fmt.Errorf("sivo: %s is %q but the body's id is %q", HeaderEventID, hid, ev.ID), http.StatusBadRequest)
		return
	}
	if h.cfg.async {
		select {
		case h.queue <- queued{ev: ev}:
			w.WriteHeader(http.StatusOK)
		default:
			h.fail(w, r, errors.New("sivo: async queue is full"), http.StatusServiceUnavailable)
		}
		return
	}
	if err := h.run(r.Context(), ev); err != nil {
		h.fail(w, r, err, http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// run calls the event's callback under the handler deadline.
func (h *Handler) run(ctx context.Context, ev *Event) (err error) {
	f := h.cb.route(ev)
	if f == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sivo: %s callback panicked: %v", ev.Type, p)
		}
	}()
	if err := f(ctx, ev); err != nil {
		return fmt.Errorf("sivo: %s callback for %s: %w", ev.Type, ev.ID, err)
	}
	return nil
}

func (h *Handler) worker() {
	defer h.wg.Done()
	for q := range h.queue {
		if err := h.run(context.Background(), q.ev); err != nil {
			if h.cfg.logger != nil {
				h.cfg.logger.Error("sivo: async callback failed", slog.String("event_id", q.ev.ID),
					slog.String("type", string(q.ev.Type)), slog.String("error", err.Error()))
			}
			if h.cfg.onAsync != nil {
				h.cfg.onAsync(q.ev, err)
			}
		}
	}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, status int) {
	if h.cfg.hookErrs != nil {
		h.cfg.hookErrs(r, err)
	}
	if h.cfg.logger != nil {
		h.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "sivo: delivery not processed",
			slog.Int("status", status), slog.String("event_id", r.Header.Get(HeaderEventID)), slog.String("error", err.Error()))
	}
	http.Error(w, http.StatusText(status), status)
}

// Shutdown stops accepting deliveries (they are answered 503, so SIVO
// retries), waits for in-flight requests and, in async mode, drains the
// queue. It returns ctx.Err() if ctx ends first.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	already := h.closed
	h.closed = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		h.inflight.Wait()
		if h.queue != nil && !already {
			close(h.queue)
		}
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
