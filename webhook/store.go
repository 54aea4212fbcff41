package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/errtext"
)

// storeCtx bounds one store call. The in-memory store never blocks and
// never reads its context, so it gets the request's as is.
func (r *Receiver) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, mem := r.s.dedupe.(*MemoryDedupe); mem {
		return ctx, nop
	}
	return context.WithTimeout(context.WithoutCancel(ctx), r.s.storeTimeout)
}

func nop() {}

// inboxCtx bounds one Enqueue by the store timeout, whatever the dedupe
// store (a database inbox blocks even when the dedupe store never does);
// a client hanging up does not cancel it. The in-memory inbox never
// blocks and never reads its context.
func (r *Receiver) inboxCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, mem := r.s.inbox.(*MemoryInbox); mem {
		return ctx, nop
	}
	return context.WithTimeout(context.WithoutCancel(ctx), r.s.storeTimeout)
}

// storeStage starts the store stage for op; the zero stage without an
// Observer.
func (r *Receiver) storeStage(ctx context.Context, ev *Event, op string) stage {
	_, st := r.begin(ctx, StageStore, ev, op)
	return st
}

// storeDone ends a store stage with err's outcome.
func (s *stage) storeDone(err error) {
	if !s.on() {
		return
	}
	res := Result{Outcome: OutcomeOK, Err: err}
	switch {
	case err == nil:
	case errors.Is(err, ErrDuplicate):
		res.Outcome = OutcomeDuplicate
	case errors.Is(err, ErrInProgress):
		res.Outcome = OutcomeInProgress
	default:
		res.Outcome, res.Reason = OutcomeUnavailable, "store"
	}
	s.finish(res)
}

// reserve claims the delivery's key. A duplicate whose body differs from
// the one committed (a store implementing Fingerprinter knows) is logged
// at warn level: the vendor reused an id for other content.
func (r *Receiver) reserve(ctx context.Context, ev *Event) (Reservation, error) {
	res, err := r.reserveKey(ctx, ev, ev.DedupeKey())
	if errors.Is(err, ErrDuplicate) && r.s.logger != nil {
		if fp, ok := r.s.dedupe.(Fingerprinter); ok {
			sctx, cancel := r.storeCtx(ctx)
			same, known, ferr := fp.SameFingerprint(sctx, res.Key, BodyHash(ev.Raw))
			cancel()
			if ferr == nil && known && !same {
				r.s.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: delivery key repeated with a different body; acknowledged as a duplicate and not processed",
					slog.String("provider", r.spec.Provider), slog.String("delivery_id", ev.ID), slog.String("event", ev.Type))
			}
		}
	}
	return res, err
}

// reserveKey claims key, mapping store failures to ErrStoreUnavailable.
func (r *Receiver) reserveKey(ctx context.Context, ev *Event, key string) (Reservation, error) {
	st := r.storeStage(ctx, ev, "reserve")
	sctx, cancel := r.storeCtx(ctx)
	res, err := r.s.dedupe.Reserve(sctx, key)
	cancel()
	if err != nil && !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrInProgress) && !errors.Is(err, ErrMalformed) {
		err = fmt.Errorf("%w: reserve: %w", ErrStoreUnavailable, err)
	}
	st.storeDone(err)
	res.Key = key
	return res, err
}

// enqueue hands a verified delivery to the inbox, once per key, as the
// enqueue stage (carrying the request's trace context on the event).
func (r *Receiver) enqueue(ctx context.Context, ev *Event) error {
	res, err := r.reserve(ctx, ev)
	if err != nil {
		return err
	}
	ectx, st := r.begin(ctx, StageEnqueue, ev, "")
	if st.on() {
		ev.Trace = r.inject(ectx)
	}
	sctx, cancel := r.inboxCtx(ectx)
	err = r.s.inbox.Enqueue(sctx, ev)
	cancel()
	switch {
	case err == nil, errors.Is(err, ErrDuplicate):
		err = nil
	case errors.Is(err, ErrInboxFull), errors.Is(err, ErrShuttingDown):
	default:
		err = fmt.Errorf("%w: enqueue: %w", ErrStoreUnavailable, err)
	}
	st.finishAs(result{err: err}, OutcomeEnqueued, ev.ID, ev.Type)
	r.finish(ctx, ev, res, err)
	return err
}

// finish commits (the callback returned nil) or releases the reservation.
func (r *Receiver) finish(ctx context.Context, ev *Event, res Reservation, err error) {
	if err == nil {
		fp := ""
		if r.s.logger != nil {
			fp = BodyHash(ev.Raw) // only read to log a changed body
		}
		r.commit(ctx, ev, res, fp)
		return
	}
	r.release(ctx, ev, res)
}

// commit marks res done, retrying with backoff until it lands while the
// reservation is kept alive, so a redelivery meanwhile gets 409 and never
// a second run. fingerprint ("" for second keys) is stored with the key by
// a Fingerprinter.
func (r *Receiver) commit(ctx context.Context, ev *Event, res Reservation, fingerprint string) {
	if !r.tryCommit(ctx, ev, res, fingerprint, 1) {
		r.retryCommit(ctx, ev, res, fingerprint)
	}
}

// retryCommit retries a failed commit in the background (apart from
// commit, so that the first attempt does not move its arguments to the
// heap).
func (r *Receiver) retryCommit(ctx context.Context, ev *Event, res Reservation, fingerprint string) {
	r.pending.Add(1)
	r.inflight.Add(1)
	// Keep the reservation alive on the lease's own cadence while the
	// commit is retried: the backoff grows past any lease, and a
	// reservation that lapsed between two attempts would let a
	// redelivery run the callback a second time.
	keeper := r.keepAlive(res)
	go func() {
		defer r.inflight.Done()
		defer r.pending.Add(-1)
		wait := 100 * time.Millisecond
		for attempt := 2; ; attempt++ {
			<-r.clock.After(wait)
			res = keeper.stop() // no extension races the commit
			if r.tryCommit(ctx, ev, res, fingerprint, attempt) {
				return
			}
			keeper = r.keepAlive(res)
			wait = min(wait*2, 10*time.Second)
		}
	}()
}

func (r *Receiver) tryCommit(ctx context.Context, ev *Event, res Reservation, fingerprint string, attempt int) bool {
	st := r.storeStage(ctx, ev, "commit")
	sctx, cancel := r.storeCtx(ctx)
	var err error
	if fp, ok := r.s.dedupe.(Fingerprinter); ok && fingerprint != "" {
		err = fp.CommitFingerprint(sctx, res, fingerprint)
	} else {
		err = r.s.dedupe.Commit(sctx, res)
	}
	cancel()
	st.storeDone(err)
	if err == nil {
		return true
	}
	r.n.commitFailures.Add(1)
	if r.s.logger != nil {
		r.s.logger.LogAttrs(ctx, slog.LevelError, "webhook: commit failed after the callback succeeded; retrying",
			slog.String("provider", r.spec.Provider), slog.String("delivery_id", ev.ID), slog.String("event", ev.Type),
			slog.Int("attempt", attempt), slog.String("error", errtext.Of(err)))
	}
	// ErrNotOwner: another delivery took the key after our lease lapsed;
	// retrying cannot help, and it will commit its own run.
	return errors.Is(err, ErrNotOwner)
}

func (r *Receiver) release(ctx context.Context, ev *Event, res Reservation) {
	st := r.storeStage(ctx, ev, "release")
	sctx, cancel := r.storeCtx(ctx)
	err := r.s.dedupe.Release(sctx, res)
	cancel()
	st.storeDone(err)
	if err != nil && r.s.logger != nil {
		r.s.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: release failed; the reservation lapses after its lease",
			slog.String("provider", r.spec.Provider), slog.String("delivery_id", ev.ID), slog.String("error", errtext.Of(err)))
	}
}

// once returns the Once a callback gets for second keys.
func (r *Receiver) once(ev *Event) Once {
	return func(ctx context.Context, key string, fn func(context.Context) error) error {
		res, err := r.reserveKey(ctx, ev, ev.onceKey(key))
		switch {
		case errors.Is(err, ErrDuplicate):
			return nil
		case err != nil:
			return err
		}
		keeper := r.keepAlive(res)
		ok := false
		defer func() {
			res = keeper.stop()
			if ok {
				r.commit(ctx, ev, res, "")
			} else {
				r.release(ctx, ev, res)
			}
		}()
		err = fn(ctx)
		ok = err == nil
		return err
	}
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
		l.k = l.r.keepAlive(l.res)
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

// leaseKeeper extends a reservation every third of its remaining lease
// while a callback or wrapped handler runs. Leases are judged by the
// store's clock, so renewals wait on the receiver's clock (WithClock; the
// real clock by default, which testing/synctest fakes).
type leaseKeeper struct {
	r            *Receiver
	res          Reservation // owned by the loop until exited is closed
	quit, exited chan struct{}
}

// keepAlive starts extending res.
func (r *Receiver) keepAlive(res Reservation) *leaseKeeper {
	k := &leaseKeeper{r: r, res: res, quit: make(chan struct{}), exited: make(chan struct{})}
	go k.loop()
	return k
}

func (k *leaseKeeper) loop() {
	defer close(k.exited)
	failed := false
	for {
		every := max(k.res.Expires.Sub(k.r.clock.Now())/3, 10*time.Millisecond)
		if failed {
			every = max(every, 250*time.Millisecond)
		}
		select {
		case <-k.quit:
			return
		case <-k.r.clock.After(every):
		}
		err := k.r.extend(&k.res)
		if errors.Is(err, ErrNotOwner) {
			<-k.quit // renewing cannot succeed any more
			return
		}
		failed = err != nil
	}
}

// stop ends the renewals and returns the reservation as last extended.
func (k *leaseKeeper) stop() Reservation {
	close(k.quit)
	<-k.exited
	return k.res
}

func (r *Receiver) extend(res *Reservation) error {
	st := r.storeStage(context.Background(), nil, "extend")
	sctx, c := context.WithTimeout(context.Background(), r.s.storeTimeout)
	next, err := r.s.dedupe.Extend(sctx, *res)
	c()
	st.storeDone(err)
	if err == nil {
		*res = next
		return nil
	}
	if r.s.logger != nil {
		r.s.logger.LogAttrs(context.Background(), slog.LevelWarn, "webhook: extending reservation failed",
			slog.String("provider", r.spec.Provider), slog.String("key", res.Key), slog.String("error", errtext.Of(err)))
	}
	return err
}
