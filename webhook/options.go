package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/internal/errtext"
)

// Option configures a receiver: NewReceiver, Middleware and every
// vendor's NewHandler and Middleware. Options are validated when they are
// applied, at construction; an error names the option.
//
// Verifiers and signers take a VerifierOption instead, so a receiver
// option (WithInbox, WithDedupe, ...) given to NewStandard does not
// compile.
type Option func(*settings) error

// VerifierOption configures a Standard Webhooks verifier (NewStandard,
// NewStandardRaw) or signer (NewStandardSigner): WithSignatureTolerance,
// WithSignatureClock and InsecureSkipSignatureTimestamp. A receiver takes
// the same settings as WithTolerance, WithClock and
// InsecureSkipTimestampCheck.
type VerifierOption func(*settings) error

// settings is what options fill; each constructor reads its part.
type settings struct {
	// verification
	tolerance    time.Duration
	toleranceSet bool
	skipTime     bool
	clock        Clock

	// receiving
	logger       *slog.Logger
	dedupe       Deduper
	maxBody      int64
	onError      func(r *http.Request, err error)
	timeout      time.Duration
	inbox        Inbox
	name         string
	readTimeout  time.Duration
	storeTimeout time.Duration
	key          KeyFunc
	observer     Observer
	source       SecretSource
	tenant       TenantFunc
}

func apply[O ~func(*settings) error](s *settings, opts []O) error {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(s); err != nil {
			return err
		}
	}
	return nil
}

// applyOwn applies opts to t for a constructor named where, refusing a nil
// option by its index.
func applyOwn[T any, O ~func(*T) error](where string, t *T, opts []O) error {
	for i, o := range opts {
		if o == nil {
			return wrap(ErrInvalidOption, "%s: option %d is nil", where, i)
		}
		if err := o(t); err != nil {
			return err
		}
	}
	return nil
}

// positive is the option name setting v, which must be positive.
func positive[S any, T int | int64 | time.Duration](name string, v T, set func(*S)) func(*S) error {
	return func(s *S) error {
		if v <= 0 {
			return wrap(ErrInvalidOption, "%s: %v must be positive", name, v)
		}
		set(s)
		return nil
	}
}

// notNil is the option name setting what, which must not be nil.
func notNil[S any](name, what string, isNil bool, set func(*S)) func(*S) error {
	return func(s *S) error {
		if isNil {
			return wrap(ErrInvalidOption, "%s: %s is nil", name, what)
		}
		set(s)
		return nil
	}
}

// WithTolerance sets how far a delivery's timestamp may be from now, in
// either direction. For Standard Webhooks (Siro, or a Standard verifier
// given to Middleware or NewReceiver) it is the signed timestamp's window
// (default DefaultTolerance, 5 minutes, or the verifier's own). For the
// HMAC-only vendors, which sign no timestamp, it turns on a freshness
// check of the timestamp inside the body (off by default), so a captured
// delivery replayed after the dedupe TTL is refused with 401. It must be
// positive.
func WithTolerance(d time.Duration) Option { return Option(tolerance("WithTolerance", d)) }

// WithSignatureTolerance is WithTolerance for a verifier (NewStandard): the
// signed timestamp's window, default DefaultTolerance. It must be positive.
func WithSignatureTolerance(d time.Duration) VerifierOption {
	return VerifierOption(tolerance("WithSignatureTolerance", d))
}

func tolerance(name string, d time.Duration) func(*settings) error {
	return positive(name, d, func(s *settings) { s.tolerance, s.toleranceSet = d, true })
}

// WithClock sets the clock that timestamp windows, the in-memory dedupe
// store's leases, lease renewal and commit retries read (tests pass a
// webhooktest.FakeClock). Callback deadlines (WithTimeout) and body read
// deadlines always use real timers; test them with testing/synctest.
func WithClock(c Clock) Option { return Option(withClock("WithClock", c)) }

// WithSignatureClock is WithClock for a verifier or signer: the clock its
// timestamps are read from (tests pass a webhooktest.FakeClock).
func WithSignatureClock(c Clock) VerifierOption {
	return VerifierOption(withClock("WithSignatureClock", c))
}

func withClock(name string, c Clock) func(*settings) error {
	return notNil(name, "clock", c == nil, func(s *settings) { s.clock = c })
}

// InsecureSkipTimestampCheck disables the Standard Webhooks replay window
// of a receiver: old deliveries verify forever. Only for replaying stored
// payloads in tests. A receiver whose deliveries carry no signed
// timestamp (Symbo, CallSync, SIVO, an HMAC verifier) refuses it with an
// error wrapping ErrInvalidOption.
func InsecureSkipTimestampCheck() Option { return Option(skipTimestamp) }

// InsecureSkipSignatureTimestamp is InsecureSkipTimestampCheck for a
// verifier (NewStandard).
func InsecureSkipSignatureTimestamp() VerifierOption { return VerifierOption(skipTimestamp) }

func skipTimestamp(s *settings) error { s.skipTime = true; return nil }

// VerifierOptions returns the verifier settings among a receiver's opts
// (WithTolerance, WithClock, InsecureSkipTimestampCheck) as VerifierOptions,
// for a vendor package that builds its Standard verifier from the options
// its receiver was given. An option that fails is left out: the receiver
// built from opts reports it.
func VerifierOptions(opts ...Option) []VerifierOption {
	var s settings
	for _, o := range opts {
		if o != nil {
			_ = o(&s)
		}
	}
	var out []VerifierOption
	if s.toleranceSet {
		out = append(out, WithSignatureTolerance(s.tolerance))
	}
	if s.clock != nil {
		out = append(out, WithSignatureClock(s.clock))
	}
	if s.skipTime {
		out = append(out, InsecureSkipSignatureTimestamp())
	}
	return out
}

// WithLogger logs one line per refused or failed delivery (warn or error)
// and per duplicate (debug), always with the keys provider, delivery_id,
// event, status and error; never a body or a secret. nil discards. A panic
// in l's handler is recovered (the line is lost), never propagated.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error { s.logger = safeLogger(l); return nil }
}

// safeLogger wraps l so a panic in its handler is recovered. The engine
// logs from places where a panic does real damage: on the request
// goroutine between reserve and commit/release (the reservation would be
// stranded for its whole lease and the watchdog left armed), and on its
// own goroutines (watchdog, lease renewal, commit retries, inbox
// workers), where an unrecovered panic kills the process.
func safeLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return nil
	}
	if _, ok := l.Handler().(safeHandler); ok {
		return l
	}
	return slog.New(safeHandler{l.Handler()})
}

// safeHandler is a slog.Handler that recovers panics of the one it wraps.
type safeHandler struct{ h slog.Handler }

func (s safeHandler) Enabled(ctx context.Context, l slog.Level) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return s.h.Enabled(ctx, l)
}

func (s safeHandler) Handle(ctx context.Context, r slog.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("webhook: log handler panicked: %v", p)
		}
	}()
	return s.h.Handle(ctx, r)
}

func (s safeHandler) WithAttrs(attrs []slog.Attr) (h slog.Handler) {
	defer func() {
		if recover() != nil {
			h = s
		}
	}()
	return safeHandler{s.h.WithAttrs(attrs)}
}

func (s safeHandler) WithGroup(name string) (h slog.Handler) {
	defer func() {
		if recover() != nil {
			h = s
		}
	}()
	return safeHandler{s.h.WithGroup(name)}
}

// WithObserver hands every stage of every delivery (delivery, verify,
// store, callback, enqueue) to o, for traces and metrics (see Observer;
// webhook/otelcallcrm adapts it to OpenTelemetry). A panic in o is
// recovered and logged. Without it the engine does no observing work.
func WithObserver(o Observer) Option {
	return notNil("WithObserver", "observer", o == nil, func(s *settings) { s.observer = o })
}

// WithDedupe sets the store of processed deliveries (default: in memory,
// with the vendor's TTL). Keys are namespaced by vendor and receiver name
// (WithName), so one store (one sqldedupe table) can serve every receiver.
func WithDedupe(d Deduper) Option {
	return notNil("WithDedupe", "store", d == nil, func(s *settings) { s.dedupe = d })
}

// WithMaxBodyBytes sets the body limit (default 1 MiB, or the vendor's
// documented maximum); a larger body, before or after gzip decoding, is
// answered 413.
func WithMaxBodyBytes(n int64) Option {
	return positive("WithMaxBodyBytes", n, func(s *settings) { s.maxBody = n })
}

// WithErrorHook receives every refused or failed delivery with its error
// (the sender only ever sees a generic status text). A panic in fn is
// recovered and logged. nil is allowed.
func WithErrorHook(fn func(r *http.Request, err error)) Option {
	return func(s *settings) error { s.onError = fn; return nil }
}

// WithTimeout bounds each callback (default: the vendor's, documented on
// its NewHandler). At the deadline the receiver answers 504 even if the
// callback ignores its context; the delivery stays reserved until the
// callback really returns, so the sender's retry gets 409 meanwhile and
// never a second, concurrent run.
func WithTimeout(d time.Duration) Option {
	return positive("WithTimeout", d, func(s *settings) { s.timeout = d })
}

// WithInbox switches the receiver to enqueue mode: a verified delivery is
// handed to in and answered 2xx only once in has taken it; in's workers
// run the same callbacks later. See Inbox, NewMemoryInbox and the durable
// webhook/riverinbox.
func WithInbox(in Inbox) Option {
	return notNil("WithInbox", "inbox", in == nil, func(s *settings) { s.inbox = in })
}

// WithName names a receiver when one process mounts two endpoints of the
// same vendor (two SIVO tenants, say): their dedupe keys and inbox
// registrations are kept apart. Letters, digits, '-', '_' and '.' only.
// The default is "default".
func WithName(name string) Option {
	return func(s *settings) error {
		if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" || len(name) > 64 {
			return wrap(ErrInvalidOption, "WithName: %q must be 1-64 letters, digits, '-', '_' or '.'", name)
		}
		s.name = name
		return nil
	}
}

// WithReadTimeout bounds how long the body may take to arrive (default
// 10 s); a slower body is answered 408. It needs a connection that
// supports read deadlines (net/http's server does).
func WithReadTimeout(d time.Duration) Option {
	return positive("WithReadTimeout", d, func(s *settings) { s.readTimeout = d })
}

// WithStoreTimeout bounds every dedupe store and inbox call (default 2 s),
// so a hung database answers 503 (fail-closed) well inside the vendor's
// own timeout instead of holding the delivery.
func WithStoreTimeout(d time.Duration) Option {
	return positive("WithStoreTimeout", d, func(s *settings) { s.storeTimeout = d })
}

// WithKey sets how Middleware derives a delivery's dedupe key (default:
// DeliveryIDKey, the signed Standard Webhooks id). Only Middleware takes
// it: NewReceiver and the vendor receivers derive their vendor's
// documented key, and refuse WithKey with an error wrapping
// ErrInvalidOption.
func WithKey(fn KeyFunc) Option {
	return notNil("WithKey", "key func", fn == nil, func(s *settings) { s.key = fn })
}

// Config is a resolved option list (WithLogger, WithErrorHook), for vendor
// packages that serve endpoints other than receivers (Symbo's contact
// lookup, Engrami's tool endpoints) so they log and report the same way as
// receivers. Applications do not need it.
type Config struct {
	s    settings
	lazy *lazyCache // set by NewConfig
}

// lazyCache is the verifier cache of a Config, made on first use.
type lazyCache struct {
	once  sync.Once
	cache *verifierCache
}

// NewConfig applies opts.
func NewConfig(opts ...Option) (*Config, error) {
	c := &Config{lazy: &lazyCache{}}
	if err := apply(&c.s, opts); err != nil {
		return nil, err
	}
	return c, nil
}

// Logger returns WithLogger's logger (nil when unset).
func (c *Config) Logger() *slog.Logger { return c.s.logger }

// Report logs a refused or failed request with the keys every receiver
// uses (provider, delivery_id, event, status, error) and hands err to
// WithErrorHook's function, recovering a panic in it.
func (c *Config) Report(r *http.Request, provider, id, event string, status int, err error) {
	if err == nil {
		return
	}
	if c.s.onError != nil {
		func() {
			defer func() {
				if p := recover(); p != nil && c.s.logger != nil {
					c.s.logger.LogAttrs(r.Context(), slog.LevelError, "webhook: error hook panicked",
						slog.String("provider", provider), slog.String("error", fmt.Sprint(p)))
				}
			}()
			c.s.onError(r, err)
		}()
	}
	if c.s.logger == nil {
		return
	}
	level, msg := slog.LevelWarn, "webhook: request refused"
	if status >= 500 {
		level, msg = slog.LevelError, "webhook: request failed"
	}
	c.s.logger.LogAttrs(r.Context(), level, msg, slog.String("provider", provider), slog.String("delivery_id", id),
		slog.String("event", event), slog.Int("status", status), slog.String("error", errtext.Of(err)))
}

// applies refuses the options this receiver has no use for, naming them,
// and gives a Standard verifier the receiver's signed-timestamp window
// (WithTolerance, InsecureSkipTimestampCheck, WithClock), whoever built
// it: Siro's NewHandler, or the caller of Middleware or NewReceiver.
func (r *Receiver) applies(keyed bool) error {
	spec := r.spec
	if r.s.key != nil && !keyed {
		return wrap(ErrInvalidOption, "WithKey: the %s receiver derives its own delivery key; WithKey is webhook.Middleware's", spec.Provider)
	}
	if r.s.skipTime {
		_, std := spec.Verifier.(*Standard)
		if spec.Time != nil || (spec.Verifier != nil && !std) {
			return wrap(ErrInvalidOption, "InsecureSkipTimestampCheck: %s deliveries carry no signed timestamp to skip", spec.Provider)
		}
	}
	if !r.s.toleranceSet && !r.s.skipTime && r.s.clock == nil {
		return nil
	}
	r.spec.Verifier = r.windowed(spec.Verifier)
	if build := spec.NewVerifier; build != nil {
		r.spec.NewVerifier = func(secrets []string) (Verifier, error) {
			v, err := build(secrets)
			if err != nil {
				return nil, err
			}
			return r.windowed(v), nil
		}
	}
	return nil
}

// windowed returns v with the receiver's signed-timestamp window when v is
// a Standard verifier (a copy: v may serve other receivers), else v.
func (r *Receiver) windowed(v Verifier) Verifier {
	std, ok := v.(*Standard)
	if !ok || std == nil {
		return v
	}
	cp := *std
	if r.s.toleranceSet {
		cp.tolerance = r.s.tolerance
	}
	if r.s.skipTime {
		cp.skipTime = true
	}
	if r.s.clock != nil {
		if _, isReal := r.s.clock.(clock.Real); isReal {
			cp.clock, cp.wall = nil, new(wallClock)
		} else {
			cp.clock, cp.wall = r.s.clock, nil
		}
	}
	return &cp
}
