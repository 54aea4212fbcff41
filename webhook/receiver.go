package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// Stats counts what a receiver did since it was built. Each request is
// counted once in Received and once by the outcome it was answered with
// (Processed, Duplicates, InProgress, Refused, Failed, TimedOut or
// Unavailable); a callback that returns after its 504 is not counted
// again.
type Stats struct {
	// Received counts requests.
	Received int64
	// Processed counts deliveries whose callback returned nil (inline) or
	// that an inbox took (enqueue mode).
	Processed int64
	// Duplicates counts deliveries already processed, answered 2xx.
	Duplicates int64
	// InProgress counts deliveries answered 409.
	InProgress int64
	// Refused counts deliveries answered 4xx before a callback.
	Refused int64
	// Failed counts callback errors and panics (500).
	Failed int64
	// Panics counts recovered callback and hook panics.
	Panics int64
	// TimedOut counts callbacks still running at their deadline (504).
	TimedOut int64
	// Unavailable counts 503s: store, inbox or secret source down,
	// shutting down.
	Unavailable int64
	// CommitFailures counts failed commit attempts after a successful
	// callback; each is retried until it lands.
	CommitFailures int64
}

// outcomes lists every Outcome a delivery can end with, in the order of
// the receiver's counters.
var outcomes = [...]Outcome{OutcomeProcessed, OutcomeEnqueued, OutcomeDuplicate, OutcomeInProgress, OutcomeRefused,
	OutcomeFailed, OutcomePanicked, OutcomeTimedOut, OutcomeUnavailable}

// counters holds one counter per delivery outcome (settle adds to it),
// plus the two that are not outcomes.
type counters struct {
	received, panics, commitFailures atomic.Int64
	by                               [len(outcomes)]atomic.Int64
}

func (c *counters) of(o Outcome) int64 { return c.by[slices.Index(outcomes[:], o)].Load() }

// Stats returns the receiver's counters.
func (r *Receiver) Stats() Stats {
	n := &r.n
	return Stats{Received: n.received.Load(), Processed: n.of(OutcomeProcessed) + n.of(OutcomeEnqueued),
		Duplicates: n.of(OutcomeDuplicate), InProgress: n.of(OutcomeInProgress), Refused: n.of(OutcomeRefused),
		Failed: n.of(OutcomeFailed) + n.of(OutcomePanicked), Panics: n.panics.Load(), TimedOut: n.of(OutcomeTimedOut),
		Unavailable: n.of(OutcomeUnavailable), CommitFailures: n.commitFailures.Load()}
}

// Receiver is the one webhook engine every vendor receiver is a
// configuration of. It is an http.Handler; it is safe for concurrent use.
// Build it with NewReceiver (vendor packages do) and stop it with
// Shutdown.
type Receiver struct {
	spec    Spec[any]
	s       settings
	clock   Clock
	name    string
	n       counters
	obs     Observer
	secrets *verifierCache // nil with fixed secrets
	keep    []string       // Spec.Headers, canonical
	// handoffs pools inline deliveries' hand-offs (per receiver: channels
	// made in a testing/synctest bubble stay in it).
	handoffs sync.Pool

	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup // requests, detached callbacks, commit retries
	pending  atomic.Int64   // commits still being retried
}

// NewReceiver builds a receiver for a vendor's spec. Options are validated
// here; an error names the option.
func NewReceiver[T any](s Spec[T], opts ...Option) (*Receiver, error) {
	return newReceiver(erase(s), false, opts)
}

// newReceiver is NewReceiver for a spec already erased; keyed says the
// receiver derives its delivery key from WithKey (Middleware's).
func newReceiver(spec Spec[any], keyed bool, opts []Option) (*Receiver, error) {
	if spec.Provider == "" || spec.Parse == nil || spec.Handle == nil || (spec.Verifier == nil && spec.NewVerifier == nil) {
		return nil, wrap(ErrInvalidOption, "NewReceiver: spec needs Provider, Verifier (or NewVerifier), Parse and Handle")
	}
	r := &Receiver{spec: spec}
	r.handoffs.New = func() any { return &handoff{done: make(chan result, 1)} }
	for _, k := range spec.Headers {
		if k = http.CanonicalHeaderKey(k); !slices.Contains(r.keep, k) {
			r.keep = append(r.keep, k)
		}
	}
	r.s = settings{readTimeout: DefaultReadTimeout, storeTimeout: 2 * time.Second, name: "default"}
	if err := apply(&r.s, opts); err != nil {
		return nil, err
	}
	r.name, r.clock, r.obs = r.s.name, clock.Or(r.s.clock), r.s.observer
	if err := r.limits(); err != nil {
		return nil, err
	}
	if err := r.applies(keyed); err != nil {
		return nil, err
	}
	if err := r.sources(); err != nil {
		return nil, err
	}
	if r.s.toleranceSet && spec.Time != nil && r.s.tolerance < spec.RetryHorizon {
		return nil, wrap(ErrInvalidOption, "WithTolerance: %v is shorter than %s's %v retry horizon; its late retries would be refused", r.s.tolerance, spec.Provider, spec.RetryHorizon)
	}
	if r.s.dedupe == nil {
		ttl := cmp(spec.DedupeTTL, 72*time.Hour)
		d, err := NewMemoryDedupe(ttl, WithDedupeClock(r.clock), WithDedupeLogger(r.s.logger))
		if err != nil {
			return nil, err
		}
		r.s.dedupe = d
	}
	if r.s.inbox != nil {
		if err := r.s.inbox.Register(r.spec.Provider+"/"+r.name, r.Process); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// cmp returns v, or def when v is zero.
func cmp[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// limits resolves and checks the body limit, the callback deadline and
// the tolerance against the vendor's facts.
func (r *Receiver) limits() error {
	spec := r.spec
	r.s.maxBody = cmp(r.s.maxBody, cmp(spec.MaxBodyBytes, DefaultMaxBodyBytes))
	if spec.MaxBodyLimit > 0 && r.s.maxBody > spec.MaxBodyLimit {
		return wrap(ErrInvalidOption, "WithMaxBodyBytes: %d exceeds %s's maximum of %d", r.s.maxBody, spec.Provider, spec.MaxBodyLimit)
	}
	r.s.timeout = cmp(r.s.timeout, cmp(spec.Timeout, 10*time.Second))
	if spec.MaxTimeout > 0 && r.s.inbox == nil && r.s.timeout >= spec.MaxTimeout {
		return wrap(ErrInvalidOption, "WithTimeout: %v is not under %s's %v delivery timeout", r.s.timeout, spec.Provider, spec.MaxTimeout)
	}
	if r.s.toleranceSet && spec.Time == nil && spec.Verifier != nil {
		if _, std := spec.Verifier.(*Standard); !std {
			return wrap(ErrInvalidOption, "WithTolerance: %s deliveries carry no timestamp to check", spec.Provider)
		}
	}
	return nil
}

// String describes the receiver without secrets.
func (r *Receiver) String() string {
	return fmt.Sprintf("webhook.Receiver{provider: %s, name: %s}", r.spec.Provider, r.name)
}

// enter registers an in-flight request unless the receiver is closed.
func (r *Receiver) enter() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return false
	}
	r.inflight.Add(1)
	return true
}

// ServeHTTP receives one delivery: 405 unless POST, read (413, 408, 415),
// resolve the tenant's secrets (404, 503), verify (400, 401), parse (400),
// dedupe (200 duplicate, 409 in progress, 503 store down), then run the
// callback under its deadline (200, 500 on error or panic, 504 at the
// deadline) or enqueue it (200 once the inbox took it, 503 otherwise).
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.serve(w, req, nil) }

// Wrap returns next behind this receiver's read, verify and dedupe steps,
// as Middleware describes; vendor packages' Middleware functions return
// it. The typed event is in the context for the vendor's EventFrom.
func (r *Receiver) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.serve(w, req, next) })
}

// delivery is one request going through the pipeline.
type delivery struct {
	r         *Receiver
	w         http.ResponseWriter
	req       *http.Request
	ctx       context.Context // the request's, carrying the delivery stage
	ev        *Event
	parsed    any
	tenant    string // from the TenantFunc, with a SecretSource
	tenantErr error
	obs       stage // the delivery stage, with an Observer

	// The event and its kept header values live here, in the delivery's
	// one allocation, unless an inbox may keep the event past the request.
	evMem  Event
	hdrMem [6]string
}

// result is how the pipeline ended a delivery; settle turns it into the
// one outcome, status and report.
type result struct {
	err      error
	enqueued bool // an inbox took it
	panicked bool // the callback or wrapped handler panicked
	status   int  // a wrapped handler's own answer (already written)
	aborted  bool // the wrapped handler panicked with http.ErrAbortHandler
	exited   bool // the wrapped handler called runtime.Goexit
}

// serve is the one pipeline: ServeHTTP runs it with next == nil, Wrap
// with the wrapped handler.
func (r *Receiver) serve(w http.ResponseWriter, req *http.Request, next http.Handler) {
	r.n.received.Add(1)
	d := &delivery{r: r, w: w, req: req, ctx: req.Context()}
	if r.secrets != nil {
		d.tenant, d.tenantErr = r.secrets.tenantOf(req)
	}
	if r.obs != nil {
		d.ctx, d.obs = r.begin(d.ctx, StageDelivery, &Event{Tenant: d.tenant}, "")
	}
	if !r.enter() {
		d.settle(result{err: wrap(ErrShuttingDown, "receiver is shutting down")})
		return
	}
	defer r.inflight.Done() // also when a wrapped handler calls runtime.Goexit
	settled := false
	defer func() {
		if !settled { // a wrapped handler called runtime.Goexit: count and report it, write nothing
			d.settle(result{err: errGoexit, exited: true})
		}
	}()
	out := d.run(next)
	settled = true
	d.settle(out)
	if out.aborted {
		panic(http.ErrAbortHandler) // the handler meant to drop the connection
	}
}

// run takes a delivery from the request to its callback's return (or its
// deadline), its enqueue or its wrapped handler's answer.
func (d *delivery) run(next http.Handler) result {
	r := d.r
	if err := d.receive(); err != nil {
		return result{err: err}
	}
	if r.s.inbox != nil && next == nil {
		err := r.enqueue(d.ctx, d.ev)
		return result{err: err, enqueued: err == nil}
	}
	res, err := r.reserve(d.ctx, d.ev)
	if err != nil {
		return result{err: err}
	}
	if next != nil {
		return d.wrapped(next, res)
	}
	return d.inline(res)
}

// receive reads, verifies and parses a delivery.
func (d *delivery) receive() error {
	r, req := d.r, d.req
	if req.Method != http.MethodPost {
		d.w.Header().Set("Allow", http.MethodPost)
		return wrap(ErrMethodNotAllowed, "%s", req.Method)
	}
	body, err := ReadBody(d.w, req, r.s.maxBody, r.s.readTimeout)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return ErrEmptyBody
	}
	ev, vals := &d.evMem, d.hdrMem[:0]
	if r.s.inbox != nil {
		ev, vals = new(Event), nil
	}
	*ev = Event{Provider: r.spec.Provider, Receiver: r.name, Tenant: d.tenant, Raw: body, ReceivedAt: r.clock.Now(), Header: r.keepHeaders(req.Header, vals)}
	d.ev = ev
	if ev.Delivery, err = r.verify(d.ctx, req, ev, d.tenantErr); err != nil {
		return err
	}
	if d.parsed, err = r.spec.Parse(ev); err != nil {
		if StatusCode(err) >= 500 {
			err = fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return err
	}
	if ev.ID == "" {
		return wrap(ErrMalformed, "%s delivery has no id to deduplicate on", r.spec.Provider)
	}
	if r.s.toleranceSet && r.spec.Time != nil {
		return r.fresh(d.parsed)
	}
	return nil
}

// verify resolves the tenant's verifier and checks the signature, as the
// verify stage.
func (r *Receiver) verify(ctx context.Context, req *http.Request, ev *Event, tenantErr error) (Delivery, error) {
	ctx, st := r.begin(ctx, StageVerify, ev, "")
	v, err := r.verifierFor(ctx, ev, tenantErr)
	var dl Delivery
	if err == nil {
		dl, err = v.Verify(req.Header, ev.Raw)
	}
	st.finishAs(result{err: err}, OutcomeOK, dl.ID, "")
	return dl, err
}

// keepHeaders copies the request headers the vendor reads (Spec.Headers),
// their values into vals when they fit.
func (r *Receiver) keepHeaders(h http.Header, vals []string) http.Header {
	if r.spec.Headers == nil {
		return h.Clone()
	}
	n := 0
	for _, k := range r.keep {
		n += len(h[k])
	}
	out := make(http.Header, len(r.keep))
	if n > cap(vals) {
		vals = make([]string, 0, n) // one backing array for every kept value
	}
	for _, k := range r.keep {
		if v := h[k]; len(v) > 0 {
			vals = append(vals, v...)
			out[k] = vals[len(vals)-len(v) : len(vals) : len(vals)]
		}
	}
	return out
}

func (r *Receiver) fresh(parsed any) error {
	t, ok := r.spec.Time(parsed)
	if !ok {
		return wrap(ErrTimestampTooOld, "no parseable timestamp in the body to check freshness")
	}
	now := r.clock.Now()
	switch {
	case now.Sub(t) > r.s.tolerance:
		return wrap(ErrTimestampTooOld, "body timestamp %s is more than %v old", t.UTC().Format(time.RFC3339), r.s.tolerance)
	case t.Sub(now) > r.s.tolerance:
		return wrap(ErrTimestampTooNew, "body timestamp %s is more than %v ahead", t.UTC().Format(time.RFC3339), r.s.tolerance)
	}
	return nil
}

// errGoexit is the result of a callback that ended its goroutine with
// runtime.Goexit (t.FailNow in a user's test).
var errGoexit = fmt.Errorf("%w: the callback called runtime.Goexit", ErrCallbackFailed)

// inline runs the callback on its own goroutine under the deadline and
// waits for whichever comes first, like net/http's TimeoutHandler: the
// callback's return (committed or released here, then answered with its
// result) or the deadline (answered 504 at once; the key stays reserved,
// renewed, until the callback really returns and its goroutine commits or
// releases it). The hand-off decides who holds the result.
func (d *delivery) inline(res Reservation) result {
	r, ev := d.r, d.ev
	h := r.handoffs.Get().(*handoff)
	h.state.Store(running)
	h.lease = lazyLease{r: r, res: res}
	// A lease longer than the deadline needs no renewal until the deadline
	// passes (the common case); a shorter one is renewed from the start.
	if res.Expires.Sub(r.clock.Now()) < r.s.timeout+r.s.timeout/2 {
		h.lease.start()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(d.ctx), r.s.timeout)
	defer cancel() // after the deadline this changes nothing for the callback
	r.inflight.Add(1)
	ctx2, st := r.begin(ctx, StageCallback, ev, "")
	h.obs, h.ctx, h.d = st, ctx2, d
	go h.run()
	var out result
	select {
	case out = <-h.done:
	case <-ctx.Done():
		if h.state.CompareAndSwap(running, abandoned) {
			h.lease.start() // the callback may now outlive the lease
			return d.timedOut()
		}
		out = <-h.done // it returned just now: the result is ours
	}
	r.finish(d.ctx, ev, h.lease.stop(), out.err)
	h.obs, h.ctx, h.d = stage{}, nil, nil
	r.handoffs.Put(h)
	if out.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return d.timedOut()
	}
	return out
}

// timedOut is the result of a callback past its deadline (504).
func (d *delivery) timedOut() result {
	return result{err: wrap(ErrCallbackTimeout, "%s %s callback still running after %v; the delivery stays reserved until it returns",
		d.r.spec.Provider, d.ev.Type, d.r.s.timeout)}
}

// callback runs the vendor's Handle as the callback stage, turning a
// panic into an error (logged with its stack). The caller began the stage
// (ctx and st are r.begin's) on its own goroutine before starting the
// callback's: an Observer's span start would otherwise grow the new
// goroutine's small stack on every delivery.
func (r *Receiver) callback(ctx context.Context, st *stage, ev *Event, parsed any) (out result) {
	out = result{err: errGoexit} // what the deferred end sees if Handle calls runtime.Goexit
	if st.on() {
		defer func() { st.finishAs(out, OutcomeProcessed, ev.ID, ev.Type) }()
	}
	defer func() {
		if p := recover(); p != nil {
			out = result{panicked: true, err: fmt.Errorf("%w: %s %s callback panicked: %v", ErrCallbackFailed, r.spec.Provider, ev.Type, p)}
			r.logPanic(ctx, "webhook: callback panicked", ev, p)
		}
	}()
	// The callback's context answers EventFrom and TenantFrom with the
	// delivery, so a typed callback reads the tenant and the matched
	// secret like a Middleware's handler does.
	if err := r.spec.Handle(&eventContext{Context: ctx, ce: ctxEvent{ev: ev, parsed: parsed}}, ev, parsed, r.once(ev)); err != nil {
		if errors.Is(err, ErrInProgress) || errors.Is(err, ErrStoreUnavailable) || errors.Is(err, ErrCallbackFailed) {
			return result{err: err}
		}
		return result{err: &CallbackError{Provider: r.spec.Provider, Type: ev.Type, ID: ev.ID, Err: err}}
	}
	return result{}
}

// Process parses a stored delivery and runs its callback: the worker side
// of an Inbox. It does not deduplicate the delivery itself (the receiver
// did at enqueue time); second keys still go through Once. A panic is
// recovered into an error. With an Observer, the callback stage continues
// the trace stored on ev (unless the inbox already did, ContinueTrace).
func (r *Receiver) Process(ctx context.Context, ev *Event) error {
	if ev == nil {
		return wrap(ErrMalformed, "Process: nil event")
	}
	// Parse sets ID and Type on the event: work on a copy, because the
	// inbox still owns ev and may read it concurrently (a Shutdown past
	// its deadline reports the running events).
	cp := *ev
	ev = &cp
	parsed, err := r.spec.Parse(ev)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if r.obs != nil && ev.Trace != nil && ctx.Value(traceContinued{}) == nil {
		ctx = r.extract(ctx, ev.Trace)
	}
	// The callback runs on its own goroutine so that one calling
	// runtime.Goexit ends only that goroutine, not the inbox's worker.
	// The delivery was counted (Processed) when the inbox took it.
	done := make(chan result, 1)
	ctx, st := r.begin(ctx, StageCallback, ev, "")
	go func() {
		out := result{err: errGoexit}
		defer func() { done <- out }()
		out = r.callback(ctx, &st, ev, parsed)
	}()
	return (<-done).err
}

// Shutdown stops accepting deliveries (they are answered 503, so the
// sender retries) and waits for in-flight requests, callbacks still
// running past their deadline and commits being retried. If ctx ends
// first it returns an error saying what is still running; nothing
// acknowledged is affected (a delivery is answered 2xx only once its
// callback returned nil or the inbox took it).
func (r *Receiver) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() { r.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("webhook: %s receiver shutdown: %w (%d commits still being retried; deliveries not yet committed are redelivered by the sender)",
			r.spec.Provider, ctx.Err(), r.pending.Load())
	}
}

// CallbackError wraps an error returned by a user callback; it answers
// 500 so the sender retries.
type CallbackError struct {
	// Provider and Type name the vendor and event type; ID the delivery.
	Provider, Type, ID string
	// Err is the callback's error.
	Err error
}

// Error names the callback and its error.
func (e *CallbackError) Error() string {
	return fmt.Sprintf("webhook: %s %s callback for %s: %v", e.Provider, e.Type, e.ID, e.Err)
}

// Unwrap returns the callback's error.
func (e *CallbackError) Unwrap() error { return e.Err }

// Is makes a CallbackError match ErrCallbackFailed.
func (e *CallbackError) Is(target error) bool { return target == ErrCallbackFailed }
