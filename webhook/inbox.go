package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/errtext"
)

// Inbox takes verified deliveries from receivers in enqueue mode
// (WithInbox) and runs them later on its workers, with the callbacks the
// receiver would have run inline.
//
// The receiver answers 2xx only after Enqueue returned nil (or an error
// wrapping ErrDuplicate: already taken), so the guarantee of "acknowledged"
// is exactly the inbox's: MemoryInbox loses what it holds if the process
// dies; webhook/riverinbox stores deliveries in PostgreSQL and loses
// nothing acknowledged.
type Inbox interface {
	// Register is called once by each receiver built WithInbox, with the
	// receiver's name ("provider/name") and the function that parses and
	// processes one of its stored events (Receiver.Process). An error
	// fails the receiver's construction.
	Register(receiver string, process func(ctx context.Context, ev *Event) error) error
	// Enqueue stores ev for processing. ev.Provider+"/"+ev.Receiver names
	// the receiver that registered. An inbox keeps ev.Tenant and ev.Trace
	// with the event, and a uniqueness key it uses must include the tenant
	// (ev.DedupeKey() does): the same vendor id from two tenants is two
	// events. A worker that continues ev.Trace itself passes
	// ContinueTrace(ctx) to Process. An error wrapping ErrInboxFull or
	// ErrShuttingDown answers 503 with Retry-After; any other error 503.
	Enqueue(ctx context.Context, ev *Event) error
}

// MemoryInbox is an in-process Inbox: a bounded queue and a fixed number
// of workers. Deliveries it holds are lost if the process dies (they were
// acknowledged); use it when a slow CRM must not make the vendor time out
// and losing a few events in a crash is acceptable, or use
// webhook/riverinbox. Safe for concurrent use.
type MemoryInbox struct {
	queue   chan *Event
	timeout time.Duration
	logger  *slog.Logger
	onError func(ev *Event, err error)
	obs     Observer

	mu        sync.RWMutex
	closed    bool
	receivers map[string]func(context.Context, *Event) error
	workers   sync.WaitGroup
	enqueuers sync.WaitGroup
	stopOnce  sync.Once
	cancel    context.CancelFunc
	ctx       context.Context

	doneMu    sync.Mutex
	running   map[*Event]struct{}
	abandoned []*Event
}

// MemoryInboxOption configures a MemoryInbox.
type MemoryInboxOption func(*MemoryInbox) error

// WithInboxTimeout bounds each callback a worker runs (default 1 minute).
func WithInboxTimeout(d time.Duration) MemoryInboxOption {
	return positive("WithInboxTimeout", d, func(m *MemoryInbox) { m.timeout = d })
}

// WithInboxLogger logs failed events (no bodies). A panic in l's handler
// is recovered: it would otherwise kill the process from a worker.
func WithInboxLogger(l *slog.Logger) MemoryInboxOption {
	return func(m *MemoryInbox) error { m.logger = safeLogger(l); return nil }
}

// WithInboxErrorHook receives every event whose callback failed (the
// vendor was already told 2xx and will not retry: store it), and, from
// Shutdown, every acknowledged event that was not finished. A panic in fn
// is recovered and logged.
func WithInboxErrorHook(fn func(ev *Event, err error)) MemoryInboxOption {
	return func(m *MemoryInbox) error { m.onError = fn; return nil }
}

// WithInboxObserver hands each job (StageJob, continuing the trace of the
// request that enqueued it, with the callback stage inside) to o. A panic
// in o is recovered and logged.
func WithInboxObserver(o Observer) MemoryInboxOption {
	return notNil("WithInboxObserver", "observer", o == nil, func(m *MemoryInbox) { m.obs = o })
}

// NewMemoryInbox returns a MemoryInbox holding up to size events, run by
// workers goroutines. A full queue answers 503 with Retry-After.
func NewMemoryInbox(size, workers int, opts ...MemoryInboxOption) (*MemoryInbox, error) {
	if size <= 0 || workers <= 0 {
		return nil, wrap(ErrInvalidOption, "NewMemoryInbox: size %d and workers %d must be positive", size, workers)
	}
	m := &MemoryInbox{queue: make(chan *Event, size), timeout: time.Minute,
		receivers: map[string]func(context.Context, *Event) error{}, running: map[*Event]struct{}{}}
	if err := applyOwn("NewMemoryInbox", m, opts); err != nil {
		return nil, err
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	for range workers {
		m.workers.Add(1)
		go m.work()
	}
	return m, nil
}

// Register implements Inbox.
func (m *MemoryInbox) Register(receiver string, process func(context.Context, *Event) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.receivers[receiver]; dup {
		return wrap(ErrInvalidOption, "inbox: receiver %q registered twice (use WithName to tell two endpoints apart)", receiver)
	}
	m.receivers[receiver] = process
	return nil
}

// Enqueue implements Inbox.
func (m *MemoryInbox) Enqueue(_ context.Context, ev *Event) error {
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return wrap(ErrShuttingDown, "inbox is shutting down")
	}
	if _, ok := m.receivers[ev.Provider+"/"+ev.Receiver]; !ok {
		m.mu.RUnlock()
		return wrap(ErrInvalidOption, "inbox: no receiver %q registered", ev.Provider+"/"+ev.Receiver)
	}
	m.enqueuers.Add(1)
	m.mu.RUnlock()
	defer m.enqueuers.Done()
	select {
	case m.queue <- ev:
		return nil
	default:
		return wrap(ErrInboxFull, "%d events queued", cap(m.queue))
	}
}

// Len returns the number of queued events (not counting running ones).
func (m *MemoryInbox) Len() int { return len(m.queue) }

func (m *MemoryInbox) work() {
	defer m.workers.Done()
	for ev := range m.queue {
		if m.ctx.Err() != nil {
			// Shutdown's deadline passed: hand the rest back unprocessed.
			m.abandon(ev)
			continue
		}
		m.run(ev)
	}
}

func (m *MemoryInbox) run(ev *Event) {
	m.doneMu.Lock()
	m.running[ev] = struct{}{}
	m.doneMu.Unlock()
	m.mu.RLock()
	process := m.receivers[ev.Provider+"/"+ev.Receiver]
	m.mu.RUnlock()
	ctx, cancel := context.WithTimeout(m.ctx, m.timeout)
	var st stage
	if m.obs != nil {
		ctx = extractTrace(ctx, m.obs, m.logger, ev.Trace)
		ctx, st = startStage(ctx, m.obs, m.logger, StageJob, Observation{Provider: ev.Provider, Receiver: ev.Receiver,
			Tenant: ev.Tenant, DeliveryID: ev.ID, EventType: ev.Type, Attempt: 1})
	}
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: callback panicked: %v\n%s", ErrCallbackFailed, p, debug.Stack())
			}
		}()
		return process(ctx, ev)
	}()
	cancel()
	if st.on() {
		// MemoryInbox does not retry: a failed job is handed to the error
		// hook, which is its dead letter.
		res := Result{Outcome: OutcomeProcessed, DeliveryID: ev.ID, EventType: ev.Type}
		if err != nil {
			res.Outcome, res.Reason, res.Err = OutcomeDeadLettered, "error", err
		}
		st.finish(res)
	}
	m.doneMu.Lock()
	_, reported := m.running[ev]
	delete(m.running, ev)
	m.doneMu.Unlock()
	if err != nil && reported {
		m.fail(ev, err)
	}
}

func (m *MemoryInbox) fail(ev *Event, err error) {
	if m.logger != nil {
		m.logger.LogAttrs(context.Background(), slog.LevelError, "webhook: inbox event failed",
			slog.String("provider", ev.Provider), slog.String("delivery_id", ev.ID), slog.String("event", ev.Type), slog.String("error", errtext.Of(err)))
	}
	if m.onError == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil && m.logger != nil {
			m.logger.LogAttrs(context.Background(), slog.LevelError, "webhook: inbox error hook panicked", slog.String("error", fmt.Sprint(p)))
		}
	}()
	m.onError(ev, err)
}

// ShutdownError lists the acknowledged events a MemoryInbox did not finish
// before Shutdown's deadline; each was also given to the error hook.
type ShutdownError struct {
	// Unfinished are the events still queued or running.
	Unfinished []*Event
	// Err is the context's error.
	Err error
}

// Error says how many events were not finished.
func (e *ShutdownError) Error() string {
	return fmt.Sprintf("webhook: inbox shutdown: %d acknowledged events not finished: %v", len(e.Unfinished), e.Err)
}

// Unwrap returns the context's error.
func (e *ShutdownError) Unwrap() error { return e.Err }

// Shutdown stops taking events (Enqueue returns ErrShuttingDown, so
// receivers answer 503) and drains the queue. If ctx ends first, the
// running callbacks' contexts are cancelled and every acknowledged event
// not finished is handed to the error hook and returned in a
// *ShutdownError: none is dropped silently. Stop receivers first.
func (m *MemoryInbox) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.stopOnce.Do(func() {
		go func() { m.enqueuers.Wait(); close(m.queue) }()
	})
	done := make(chan struct{})
	go func() { m.workers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	m.cancel()
	// An Enqueue that passed the closed check just before Shutdown is
	// still pushing: let it finish (its send never blocks) so its event
	// is in the queue for the drain below, not left behind it.
	m.enqueuers.Wait()
	m.doneMu.Lock()
	var running []*Event
	for ev := range m.running {
		running = append(running, ev)
		delete(m.running, ev) // reported here, not again by its worker
	}
	m.doneMu.Unlock()
	for _, ev := range running {
		m.fail(ev, fmt.Errorf("%w: still running at the shutdown deadline", ErrShuttingDown))
	}
	// Drain what is still queued without running it; workers that are
	// free do the same (abandon), and both paths record the event.
drain:
	for {
		select {
		case ev, ok := <-m.queue:
			if !ok {
				break drain
			}
			m.abandon(ev)
		default:
			break drain
		}
	}
	m.doneMu.Lock()
	unfinished := append(running, m.abandoned...)
	m.doneMu.Unlock()
	return &ShutdownError{Unfinished: unfinished, Err: ctx.Err()}
}

// abandon hands back a queued event that will not run: it is recorded for
// Shutdown's error and given to the error hook (which also sees any event
// a worker abandons after Shutdown returned: none is dropped silently).
func (m *MemoryInbox) abandon(ev *Event) {
	m.doneMu.Lock()
	m.abandoned = append(m.abandoned, ev)
	m.doneMu.Unlock()
	m.fail(ev, fmt.Errorf("%w: not processed before the inbox shut down", ErrShuttingDown))
}
