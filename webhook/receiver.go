package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// Event is one verified delivery: what a callback, an Unknown callback, a
// wrapped handler (EventFrom) and an Inbox see. Raw always holds the exact
// bytes that were verified (after gzip decoding).
type Event struct {
	// Provider is the vendor ("siro", "symbo", "callsync", "sivo", or
	// "webhook" for Middleware).
	Provider string
	// Receiver is the receiver's name (WithName; "default").
	Receiver string
	// ID is the vendor's delivery key (svix-id, X-Sivo-Event-Id, ...): the
	// dedupe key before namespacing.
	ID string
	// Type is the vendor's event type as sent.
	Type string
	// Raw is the verified body.
	Raw []byte
	// Header holds the request headers the vendor's parser and callbacks
	// read (all of them for Middleware).
	Header http.Header
	// Delivery is what verification established.
	Delivery Delivery
	// ReceivedAt is when the receiver read the delivery (its clock).
	ReceivedAt time.Time
	// Tenant is the account the delivery was addressed to, as resolved
	// from what the user configured (the URL path or the handler), never
	// from the unsigned request; "" for a receiver with fixed secrets.
	// Dedupe keys and inbox jobs are namespaced by it.
	Tenant string
	// Trace is the trace context of the request that received the
	// delivery (Observer.Inject), stored by an inbox with the event so
	// the job continues the request's trace; nil without an Observer.
	Trace map[string]string
}

// Decode unmarshals the raw body into v.
func (e *Event) Decode(v any) error { return json.Unmarshal(e.Raw, v) }

// DedupeKey is the key the receiver reserves: provider, receiver name and
// the vendor's id, so one store can serve every receiver.
func (e *Event) DedupeKey() string { return e.Provider + "/" + e.Receiver + "/" + e.ID }

// Once runs fn at most once per key across every delivery, replica and
// retry, with the same reserve / extend / commit-on-success /
// release-on-failure contract as deliveries; key is namespaced like
// deliveries. A key already done returns nil without calling fn; a key in
// progress elsewhere returns an error wrapping ErrInProgress (409, the
// sender retries). Vendor packages use it for second keys (Siro's "ready
// once per recording").
type Once func(ctx context.Context, key string, fn func(ctx context.Context) error) error

// Spec is what a vendor package tells the engine: its facts. Everything
// else (reading, verifying, deduping, deadlines, answering, logging,
// inboxes) the engine does the same way for every vendor.
type Spec struct {
	// Provider names the vendor in keys and logs.
	Provider string
	// Verifier checks the signature.
	Verifier Verifier
	// MaxBodyBytes is the default body limit (0: DefaultMaxBodyBytes);
	// MaxBodyLimit, if set, is the most WithMaxBodyBytes may allow.
	MaxBodyBytes, MaxBodyLimit int64
	// Timeout is the default callback deadline; MaxTimeout, if set, is the
	// vendor's own delivery timeout, which an inline deadline must stay
	// under.
	Timeout, MaxTimeout time.Duration
	// DedupeTTL is how long the default in-memory store remembers a
	// processed delivery (longer than the vendor's retry span).
	DedupeTTL time.Duration
	// Headers lists the request headers kept on Event.Header (and stored
	// by an inbox); nil keeps every header.
	Headers []string
	// Parse decodes a verified event: it sets ev.ID (the delivery key) and
	// ev.Type and returns the vendor's typed event. An error answers 400.
	Parse func(ev *Event) (any, error)
	// Time returns the timestamp inside a parsed event, for WithTolerance
	// on vendors that sign none; nil when the vendor has none.
	Time func(parsed any) (time.Time, bool)
	// RetryHorizon is how long after an event's creation the vendor may
	// still deliver it by its documented retry schedule (0: not
	// documented). The body timestamp Time reads does not change across
	// retries, so NewReceiver refuses a WithTolerance shorter than this:
	// it would answer the vendor's late retries 401.
	RetryHorizon time.Duration
	// IDHeader names the request header carrying the vendor's delivery id
	// (X-Sivo-Event-Id, svix-id), if any: a delivery refused before it is
	// verified and parsed is logged with that (unverified) value as
	// delivery_id, to correlate with the vendor's delivery log.
	IDHeader string
	// Handle runs the user's callback for a parsed event.
	Handle func(ctx context.Context, ev *Event, parsed any, once Once) error
}

// Stats counts what a receiver did since it was built.
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
	// Unavailable counts 503s: store or inbox down, shutting down.
	Unavailable int64
	// CommitFailures counts failed commit attempts after a successful
	// callback; each is retried until it lands.
	CommitFailures int64
}

type counters struct {
	received, processed, duplicates, inProgress, refused, failed, panics, timedOut, unavailable, commitFailures atomic.Int64
}

// Receiver is the one webhook engine every vendor receiver is a
// configuration of. It is an http.Handler; it is safe for concurrent use.
// Build it with NewReceiver (vendor packages do) and stop it with
// Shutdown.
type Receiver struct {
	spec    Spec
	s       settings
	clock   Clock
	realClk bool
	name    string
	n       counters

	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup // requests, detached callbacks, commit retries
	pending  atomic.Int64   // commits still being retried
}

// NewReceiver builds a receiver for a vendor's spec. Options are validated
// here; an error names the option.
func NewReceiver(spec Spec, opts ...Option) (*Receiver, error) {
	if spec.Provider == "" || spec.Verifier == nil || spec.Parse == nil || spec.Handle == nil {
		return nil, wrap(ErrInvalidOption, "NewReceiver: spec needs Provider, Verifier, Parse and Handle")
	}
	r := &Receiver{spec: spec}
	r.s = settings{readTimeout: DefaultReadTimeout, storeTimeout: 2 * time.Second, name: "default"}
	if err := apply(&r.s, opts); err != nil {
		return nil, err
	}
	r.name = r.s.name
	r.clock = r.s.clock
	if r.clock == nil {
		r.clock = clock.Real{}
		r.realClk = true
	}
	if _, ok := r.clock.(clock.Real); ok {
		r.realClk = true
	}
	if r.s.maxBody == 0 {
		r.s.maxBody = spec.MaxBodyBytes
		if r.s.maxBody == 0 {
			r.s.maxBody = DefaultMaxBodyBytes
		}
	}
	if spec.MaxBodyLimit > 0 && r.s.maxBody > spec.MaxBodyLimit {
		return nil, wrap(ErrInvalidOption, "WithMaxBodyBytes: %d exceeds %s's maximum of %d", r.s.maxBody, spec.Provider, spec.MaxBodyLimit)
	}
	if r.s.timeout == 0 {
		r.s.timeout = spec.Timeout
		if r.s.timeout == 0 {
			r.s.timeout = 10 * time.Second
		}
	}
	if spec.MaxTimeout > 0 && r.s.inbox == nil && r.s.timeout >= spec.MaxTimeout {
		return nil, wrap(ErrInvalidOption, "WithTimeout: %v is not under %s's %v delivery timeout", r.s.timeout, spec.Provider, spec.MaxTimeout)
	}
	if r.s.toleranceSet && spec.Time == nil {
		if _, std := spec.Verifier.(*Standard); !std {
			return nil, wrap(ErrInvalidOption, "WithTolerance: %s deliveries carry no timestamp to check", spec.Provider)
		}
	}
	if r.s.toleranceSet && spec.Time != nil && r.s.tolerance < spec.RetryHorizon {
		return nil, wrap(ErrInvalidOption, "WithTolerance: %v is shorter than %s's %v retry horizon; its late retries would be refused", r.s.tolerance, spec.Provider, spec.RetryHorizon)
	}
	if r.s.dedupe == nil {
		ttl := spec.DedupeTTL
		if ttl == 0 {
			ttl = 72 * time.Hour
		}
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

// Stats returns the receiver's counters.
func (r *Receiver) Stats() Stats {
	return Stats{Received: r.n.received.Load(), Processed: r.n.processed.Load(), Duplicates: r.n.duplicates.Load(),
		InProgress: r.n.inProgress.Load(), Refused: r.n.refused.Load(), Failed: r.n.failed.Load(), Panics: r.n.panics.Load(),
		TimedOut: r.n.timedOut.Load(), Unavailable: r.n.unavailable.Load(), CommitFailures: r.n.commitFailures.Load()}
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
// verify (400, 401), parse (400), dedupe (200 duplicate, 409 in
// progress, 503 store down), then run the callback under its deadline
// (200, 500 on error or panic, 504 at the deadline) or enqueue it (200
// once the inbox took it, 503 otherwise).
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.n.received.Add(1)
	if !r.enter() {
		r.answer(w, req, nil, wrap(ErrShuttingDown, "receiver is shutting down"))
		return
	}
	defer r.inflight.Done()
	ev, parsed, err := r.receive(w, req)
	if err != nil {
		r.answer(w, req, ev, err)
		return
	}
	if r.s.inbox != nil {
		r.answer(w, req, ev, r.enqueue(req.Context(), ev))
		return
	}
	r.runInline(w, req, ev, parsed)
}

// receive reads, verifies and parses a delivery.
func (r *Receiver) receive(w http.ResponseWriter, req *http.Request) (*Event, any, error) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, nil, wrap(ErrMethodNotAllowed, "%s", req.Method)
	}
	body, err := ReadBody(w, req, r.s.maxBody, r.s.readTimeout)
	if err != nil {
		return nil, nil, err
	}
	if len(body) == 0 {
		return nil, nil, ErrEmptyBody
	}
	d, err := r.spec.Verifier.Verify(req.Header, body)
	if err != nil {
		return nil, nil, err
	}
	ev := &Event{Provider: r.spec.Provider, Receiver: r.name, Raw: body, Delivery: d, ReceivedAt: r.clock.Now(), Header: r.keepHeaders(req.Header)}
	parsed, err := r.spec.Parse(ev)
	if err != nil {
		if StatusCode(err) >= 500 {
			err = fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return ev, nil, err
	}
	if ev.ID == "" {
		return ev, nil, wrap(ErrMalformed, "%s delivery has no id to deduplicate on", r.spec.Provider)
	}
	if r.s.toleranceSet && r.spec.Time != nil {
		if err := r.fresh(parsed); err != nil {
			return ev, nil, err
		}
	}
	return ev, parsed, nil
}

func (r *Receiver) keepHeaders(h http.Header) http.Header {
	if r.spec.Headers == nil {
		return h.Clone()
	}
	out := make(http.Header, len(r.spec.Headers))
	for _, k := range r.spec.Headers {
		if v := h.Values(k); len(v) > 0 {
			out[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
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

// storeCtx bounds one store call. The in-memory store never blocks, so it
// gets no timer.
func (r *Receiver) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, mem := r.s.dedupe.(*MemoryDedupe); mem {
		return context.WithoutCancel(ctx), func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), r.s.storeTimeout)
}

// reserve claims key, mapping store failures to ErrStoreUnavailable.
func (r *Receiver) reserve(ctx context.Context, key string) (Reservation, error) {
	sctx, cancel := r.storeCtx(ctx)
	defer cancel()
	res, err := r.s.dedupe.Reserve(sctx, key)
	if err != nil && !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrInProgress) && !errors.Is(err, ErrMalformed) {
		return res, fmt.Errorf("%w: reserve: %w", ErrStoreUnavailable, err)
	}
	return res, err
}

// enqueue hands a verified delivery to the inbox, once per key.
func (r *Receiver) enqueue(ctx context.Context, ev *Event) error {
	res, err := r.reserve(ctx, ev.DedupeKey())
	if err != nil {
		return err
	}
	sctx, cancel := r.storeCtx(ctx)
	err = r.s.inbox.Enqueue(sctx, ev)
	cancel()
	switch {
	case err == nil, errors.Is(err, ErrDuplicate):
		r.commit(ctx, ev, res)
		return nil
	case errors.Is(err, ErrInboxFull), errors.Is(err, ErrShuttingDown):
	default:
		err = fmt.Errorf("%w: enqueue: %w", ErrStoreUnavailable, err)
	}
	r.release(ctx, ev, res)
	return err
}

// runInline reserves the delivery and runs its callback under the
// deadline, and answers. The callback runs on the request's goroutine (no
// hand-off on the fast path); a watchdog answers 504 at the deadline even
// if the callback ignores its context, and the key stays reserved, renewed
// by a timer, until the callback really returns and is committed or
// released.
func (r *Receiver) runInline(w http.ResponseWriter, req *http.Request, ev *Event, parsed any) {
	ctx := req.Context()
	res, err := r.reserve(ctx, ev.DedupeKey())
	if err != nil {
		r.answer(w, req, ev, err)
		return
	}
	// A lease longer than the deadline needs no renewal until the deadline
	// passes (the common case: no timer); a shorter one is renewed from
	// the start.
	lease := &lazyLease{r: r, res: res}
	if res.Expires.Sub(r.clock.Now()) < r.s.timeout+r.s.timeout/2 {
		lease.start()
	}
	var once answerOnce
	timeout := func() {
		lease.start() // the callback may now outlive the lease
		if once.claim() {
			r.answerNow(w, req, ev, wrap(ErrCallbackTimeout, "%s %s callback still running after %v; the delivery stays reserved until it returns",
				r.spec.Provider, ev.Type, r.s.timeout))
			once.done()
		}
	}
	base := context.WithoutCancel(ctx)
	var cctx context.Context
	var cancel context.CancelFunc
	var stopWatch func()
	if r.realClk {
		// One timer for both the callback's deadline and the watchdog
		// (context.WithTimeout plus context.AfterFunc would be two).
		dctx, cancelCause := context.WithCancelCause(base)
		deadline := time.Now().Add(r.s.timeout)
		cctx = &deadlineCtx{Context: dctx, deadline: deadline}
		cancel = func() { cancelCause(context.Canceled) }
		t := time.AfterFunc(r.s.timeout, func() {
			cancelCause(context.DeadlineExceeded)
			timeout()
		})
		stopWatch = func() { t.Stop() }
	} else {
		cctx, cancel = context.WithCancel(base)
		stopped := make(chan struct{})
		go func() {
			select {
			case <-r.clock.After(r.s.timeout):
				cancel()
				timeout()
			case <-stopped:
			}
		}()
		stopWatch = sync.OnceFunc(func() { close(stopped) })
	}
	returned := false
	defer func() {
		if !returned {
			// runtime.Goexit in the callback (t.FailNow in a test, say):
			// no answer can be written, but stop the timers and let the
			// vendor's retry through.
			stopWatch()
			cancel()
			r.release(ctx, ev, lease.stop())
		}
	}()
	err = r.call(cctx, ev, func(cctx context.Context) error {
		return r.spec.Handle(cctx, ev, parsed, r.once(ev))
	})
	returned = true
	expired := errors.Is(cctx.Err(), context.DeadlineExceeded) || once.claimed.Load()
	stopWatch()
	cancel()
	res = lease.stop()
	switch {
	case expired:
		// The deadline passed first (even if the callback then returned
		// before the watchdog ran): the answer is the deadline's.
		timeout()
		once.wait()
	case once.claim():
		r.answer(w, req, ev, err)
		once.done()
	default:
		once.wait() // the watchdog is writing (or wrote) the 504
	}
	r.finish(ctx, ev, res, err)
}

// deadlineCtx is a cancellable context that reports its deadline and
// answers context.DeadlineExceeded once cancelled for it, like
// context.WithTimeout's, with the timer owned by runInline.
type deadlineCtx struct {
	context.Context
	deadline time.Time
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		if cause := context.Cause(c.Context); errors.Is(cause, context.DeadlineExceeded) {
			return context.DeadlineExceeded
		}
		return err
	}
	return nil
}

// answerOnce lets exactly one of the callback's return and the watchdog
// write the answer.
type answerOnce struct {
	claimed atomic.Bool
	mu      sync.Mutex
	written bool
	cond    *sync.Cond
}

func (a *answerOnce) claim() bool { return a.claimed.CompareAndSwap(false, true) }

func (a *answerOnce) done() {
	a.mu.Lock()
	a.written = true
	if a.cond != nil {
		a.cond.Broadcast()
	}
	a.mu.Unlock()
}

func (a *answerOnce) wait() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cond == nil {
		a.cond = sync.NewCond(&a.mu)
	}
	for !a.written {
		a.cond.Wait()
	}
}

// answerNow answers from the watchdog while the callback still runs on
// the request's goroutine: Content-Length and a flush make the response
// complete for the sender now, not when the handler returns, and
// "Connection: close" keeps the sender off the still-busy connection.
func (r *Receiver) answerNow(w http.ResponseWriter, req *http.Request, ev *Event, err error) {
	status := StatusCode(err)
	r.n.timedOut.Add(1)
	r.report(req, ev, status, err)
	body := http.StatusText(status) + "\n"
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	// An HTTP/1 connection stays busy until the callback returns: tell the
	// sender not to reuse it, or its next delivery would wait behind it.
	// (HTTP/2 streams do not block each other, and there the header would
	// tear the whole connection down.)
	if req.ProtoMajor == 1 {
		h.Set("Connection", "close")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
	_ = http.NewResponseController(w).Flush()
}

// lazyLease starts a leaseKeeper on demand, at most once, and never after
// stop.
type lazyLease struct {
	r    *Receiver
	mu   sync.Mutex
	done bool
	k    *leaseKeeper
	res  Reservation
}

func (l *lazyLease) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done && l.k == nil {
		l.k = l.r.keepAlive(&l.res)
	}
}

// stop ends renewals and returns the reservation as last extended.
func (l *lazyLease) stop() Reservation {
	l.mu.Lock()
	l.done = true
	k := l.k
	l.mu.Unlock()
	if k != nil {
		return k.stop()
	}
	return l.res
}

// leaseKeeper extends a reservation on a timer while a callback runs.
type leaseKeeper struct {
	r       *Receiver
	mu      sync.Mutex
	res     Reservation
	stopped bool
	failed  bool          // the last extension failed: back off
	lost    bool          // ErrNotOwner: renewing cannot succeed any more
	timer   *time.Timer   // real clock
	quit    chan struct{} // fake clock
	exited  chan struct{}
}

// keepAlive starts extending res every third of its remaining lease.
func (r *Receiver) keepAlive(res *Reservation) *leaseKeeper {
	k := &leaseKeeper{r: r, res: *res}
	if r.realClk {
		// Hold the lock while the timer is set: a first tick that fires at
		// once (a lease nearly out) must see k.timer.
		k.mu.Lock()
		k.timer = time.AfterFunc(k.intervalLocked(), k.tick)
		k.mu.Unlock()
		return k
	}
	k.quit, k.exited = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(k.exited)
		for {
			select {
			case <-k.quit:
				return
			case <-r.clock.After(k.interval()):
				k.tick()
			}
		}
	}()
	return k
}

func (k *leaseKeeper) interval() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.intervalLocked()
}

func (k *leaseKeeper) intervalLocked() time.Duration {
	every := max(k.res.Expires.Sub(k.r.clock.Now())/3, 10*time.Millisecond)
	if k.failed {
		every = max(every, 250*time.Millisecond)
	}
	if k.lost {
		every = 24 * time.Hour
	}
	return every
}

func (k *leaseKeeper) tick() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped || k.lost {
		return
	}
	err := k.r.extend(&k.res)
	k.failed = err != nil
	k.lost = errors.Is(err, ErrNotOwner)
	if k.timer != nil && !k.lost {
		k.timer.Reset(k.intervalLocked())
	}
}

// stop ends the renewals and returns the reservation as last extended.
func (k *leaseKeeper) stop() Reservation {
	if k.quit != nil {
		close(k.quit)
		<-k.exited
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	if k.timer != nil {
		k.timer.Stop()
	}
	return k.res
}

func (r *Receiver) extend(res *Reservation) error {
	sctx, c := context.WithTimeout(context.Background(), r.s.storeTimeout)
	next, err := r.s.dedupe.Extend(sctx, *res)
	c()
	if err == nil {
		*res = next
		return nil
	}
	if r.s.logger != nil {
		r.s.logger.LogAttrs(context.Background(), slog.LevelWarn, "webhook: extending reservation failed",
			slog.String("provider", r.spec.Provider), slog.String("key", res.Key), slog.String("error", err.Error()))
	}
	return err
}

// finish commits (the callback returned nil) or releases the reservation.
func (r *Receiver) finish(ctx context.Context, ev *Event, res Reservation, err error) {
	if err == nil {
		r.commit(ctx, ev, res)
		r.n.processed.Add(1)
		return
	}
	r.release(ctx, ev, res)
}

// call runs fn, turning a panic into an error (logged with its stack).
func (r *Receiver) call(ctx context.Context, ev *Event, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.n.panics.Add(1)
			err = fmt.Errorf("%w: %s %s callback panicked: %v", ErrCallbackFailed, r.spec.Provider, ev.Type, p)
			if r.s.logger != nil {
				r.s.logger.LogAttrs(ctx, slog.LevelError, "webhook: callback panicked",
					slog.String("provider", r.spec.Provider), slog.String("delivery_id", ev.ID), slog.String("event", ev.Type),
					slog.Int("status", 500), slog.String("error", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			}
		}
	}()
	if err := fn(ctx); err != nil {
		if errors.Is(err, ErrInProgress) || errors.Is(err, ErrStoreUnavailable) || errors.Is(err, ErrCallbackFailed) {
			return err
		}
		return &CallbackError{Provider: r.spec.Provider, Type: ev.Type, ID: ev.ID, Err: err}
	}
	return nil
}

// commit marks res done, retrying with backoff until it lands while the
// reservation is kept alive, so a redelivery meanwhile gets 409 and never
// a second run.
func (r *Receiver) commit(ctx context.Context, ev *Event, res Reservation) {
	if r.tryCommit(ctx, ev, res, 1) {
		return
	}
	r.pending.Add(1)
	r.inflight.Add(1)
	// Keep the reservation alive on the lease's own cadence while the
	// commit is retried: the backoff grows past any lease, and a
	// reservation that lapsed between two attempts would let a
	// redelivery run the callback a second time.
	keeper := r.keepAlive(&res)
	go func() {
		defer r.inflight.Done()
		defer r.pending.Add(-1)
		wait := 100 * time.Millisecond
		for attempt := 2; ; attempt++ {
			<-r.clock.After(wait)
			res = keeper.stop() // no extension races the commit
			if r.tryCommit(ctx, ev, res, attempt) {
				return
			}
			keeper = r.keepAlive(&res)
			wait = min(wait*2, 10*time.Second)
		}
	}()
}

func (r *Receiver) tryCommit(ctx context.Context, ev *Event, res Reservation, attempt int) bool {
	sctx, cancel := r.storeCtx(ctx)
	err := r.s.dedupe.Commit(sctx, res)
	cancel()
	if err == nil {
		return true
	}
	r.n.commitFailures.Add(1)
	if r.s.logger != nil {
		r.s.logger.LogAttrs(ctx, slog.LevelError, "webhook: commit failed after the callback succeeded; retrying",
			slog.String("provider", r.spec.Provider), slog.String("delivery_id", ev.ID), slog.String("event", ev.Type),
			slog.Int("attempt", attempt), slog.String("error", err.Error()))
	}
	if errors.Is(err, ErrNotOwner) {
		// Another delivery took the key after our lease lapsed: retrying
		// cannot help, and it will commit its own run.
		return true
	}
	return false
}

func (r *Receiver) release(ctx context.Context, ev *Event, res Reservation) {
	sctx, cancel := r.storeCtx(ctx)
	err := r.s.dedupe.Release(sctx, res)
	cancel()
	if err != nil && r.s.logger != nil {
		r.s.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: release failed; the reservation lapses after its lease",
			slog.String("provider", r.spec.Provider), slog.String("delivery_id", ev.ID), slog.String("error", err.Error()))
	}
}

// once returns the Once a callback gets for second keys.
func (r *Receiver) once(ev *Event) Once {
	return func(ctx context.Context, key string, fn func(context.Context) error) error {
		res, err := r.reserve(ctx, r.spec.Provider+"/"+r.name+"/"+key)
		switch {
		case errors.Is(err, ErrDuplicate):
			return nil
		case err != nil:
			return err
		}
		keeper := r.keepAlive(&res)
		ok := false
		defer func() {
			res = keeper.stop()
			if ok {
				r.commit(ctx, ev, res)
			} else {
				r.release(ctx, ev, res)
			}
		}()
		err = fn(ctx)
		ok = err == nil
		return err
	}
}

// Process parses a stored delivery and runs its callback: the worker side
// of an Inbox. It does not deduplicate the delivery itself (the receiver
// did at enqueue time); second keys still go through Once. A panic is
// recovered into an error.
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
	err = r.call(ctx, ev, func(cctx context.Context) error { return r.spec.Handle(cctx, ev, parsed, r.once(ev)) })
	if err == nil {
		r.n.processed.Add(1)
	}
	return err
}

// answer writes the status for err and logs and reports a refusal or a
// failure once, with the same keys for every vendor.
func (r *Receiver) answer(w http.ResponseWriter, req *http.Request, ev *Event, err error) {
	status := StatusCode(err)
	if err == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	switch {
	case errors.Is(err, ErrDuplicate):
		r.n.duplicates.Add(1)
	case status == 409:
		r.n.inProgress.Add(1)
	case status == 503:
		r.n.unavailable.Add(1)
	case status == 504:
		r.n.timedOut.Add(1)
	case status >= 500:
		r.n.failed.Add(1)
	default:
		r.n.refused.Add(1)
	}
	r.report(req, ev, status, err)
	if status == http.StatusOK {
		w.WriteHeader(status)
		return
	}
	if status == http.StatusServiceUnavailable || status == http.StatusConflict {
		w.Header().Set("Retry-After", "5")
	}
	http.Error(w, http.StatusText(status), status)
}

func (r *Receiver) report(req *http.Request, ev *Event, status int, err error) {
	if r.s.onError != nil {
		func() {
			defer func() {
				if p := recover(); p != nil {
					r.n.panics.Add(1)
					if r.s.logger != nil {
						r.s.logger.LogAttrs(req.Context(), slog.LevelError, "webhook: error hook panicked",
							slog.String("provider", r.spec.Provider), slog.String("error", fmt.Sprint(p)))
					}
				}
			}()
			r.s.onError(req, err)
		}()
	}
	if r.s.logger == nil {
		return
	}
	level := slog.LevelWarn
	msg := "webhook: delivery refused"
	switch {
	case status == http.StatusOK:
		level, msg = slog.LevelDebug, "webhook: duplicate delivery acknowledged"
	case status >= 500:
		level, msg = slog.LevelError, "webhook: delivery failed"
	}
	id, typ := "", ""
	if ev != nil {
		id, typ = ev.ID, ev.Type
		if id == "" {
			id = ev.Delivery.ID
		}
	}
	if id == "" && r.spec.IDHeader != "" {
		// Unverified, so bounded: it only correlates with the vendor's log.
		id = req.Header.Get(r.spec.IDHeader)
		if len(id) > 128 {
			id = id[:128]
		}
	}
	r.s.logger.LogAttrs(req.Context(), level, msg, slog.String("provider", r.spec.Provider), slog.String("delivery_id", id),
		slog.String("event", typ), slog.Int("status", status), slog.String("error", err.Error()))
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
