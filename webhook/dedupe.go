package webhook

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// Deduper records which deliveries were processed, with reserve-before /
// commit-after / release-on-failure semantics:
//
//	if err := d.Reserve(ctx, key); err != nil { ... } // ErrDuplicate or ErrInProgress
//	if err := handle(); err != nil {
//		d.Release(ctx, key) // the sender's retry goes through
//	} else {
//		d.Commit(ctx, key)
//	}
//
// Implementations must be safe for concurrent use; Reserve must be atomic
// (two concurrent reservations of one key: exactly one succeeds).
type Deduper interface {
	// Reserve claims key for processing. It returns an error wrapping
	// ErrDuplicate when key was committed, or ErrInProgress when another
	// delivery holds a live reservation.
	Reserve(ctx context.Context, key string) error
	// Commit marks key processed; later reservations return ErrDuplicate
	// until the record expires.
	Commit(ctx context.Context, key string) error
	// Release drops the reservation so a retry can process key.
	Release(ctx context.Context, key string) error
}

// MemoryDedupe is an in-memory Deduper with a TTL for committed keys, a
// lease for reservations and a bound on the number of keys. It only
// deduplicates within one process; use a shared store across replicas.
type MemoryDedupe struct {
	ttl, lease time.Duration
	max        int
	clock      clock.Clock

	mu      sync.Mutex
	entries map[string]*list.Element
	order   *list.List // of *memEntry, oldest first
}

type memEntry struct {
	key       string
	committed bool
	expires   time.Time
}

// MemoryOption configures a MemoryDedupe.
type MemoryOption func(*MemoryDedupe) error

// WithLease bounds how long a reservation blocks retries if its handler
// never commits or releases (default 5 minutes).
func WithLease(d time.Duration) MemoryOption {
	return func(m *MemoryDedupe) error {
		if d <= 0 {
			return wrap(ErrInvalidOption, "lease %v must be positive", d)
		}
		m.lease = d
		return nil
	}
}

// WithMaxEntries bounds the number of keys kept (default 100,000); past it
// the oldest records are dropped first.
func WithMaxEntries(n int) MemoryOption {
	return func(m *MemoryDedupe) error {
		if n <= 0 {
			return wrap(ErrInvalidOption, "max entries %d must be positive", n)
		}
		m.max = n
		return nil
	}
}

// WithDedupeClock sets the clock (tests).
func WithDedupeClock(c Clock) MemoryOption {
	return func(m *MemoryDedupe) error {
		if c == nil {
			return wrap(ErrInvalidOption, "clock is nil")
		}
		m.clock = c
		return nil
	}
}

// NewMemoryDedupe returns a MemoryDedupe remembering committed keys for ttl.
// Choose a ttl longer than the sender's retry span (Svix retries for about
// a day and a half; SIVO for about 1h15m).
func NewMemoryDedupe(ttl time.Duration, opts ...MemoryOption) (*MemoryDedupe, error) {
	if ttl <= 0 {
		return nil, wrap(ErrInvalidOption, "ttl %v must be positive", ttl)
	}
	m := &MemoryDedupe{ttl: ttl, lease: 5 * time.Minute, max: 100_000, clock: clock.Real{},
		entries: map[string]*list.Element{}, order: list.New()}
	for _, o := range opts {
		if err := o(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Reserve implements Deduper.
func (m *MemoryDedupe) Reserve(_ context.Context, key string) error {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[key]; ok {
		e := el.Value.(*memEntry)
		if now.Before(e.expires) {
			if e.committed {
				return wrap(ErrDuplicate, "%.80s", key)
			}
			return wrap(ErrInProgress, "%.80s", key)
		}
		m.order.Remove(el)
		delete(m.entries, key)
	}
	m.evict(now)
	m.entries[key] = m.order.PushBack(&memEntry{key: key, expires: now.Add(m.lease)})
	return nil
}

// evict drops expired records from the front and, past the bound, the
// oldest ones.
func (m *MemoryDedupe) evict(now time.Time) {
	for el := m.order.Front(); el != nil; el = m.order.Front() {
		e := el.Value.(*memEntry)
		if len(m.entries) < m.max && now.Before(e.expires) {
			return
		}
		m.order.Remove(el)
		delete(m.entries, e.key)
	}
}

// Commit implements Deduper.
func (m *MemoryDedupe) Commit(_ context.Context, key string) error {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.entries[key]
	if !ok {
		el = m.order.PushBack(&memEntry{key: key})
		m.entries[key] = el
	} else {
		m.order.MoveToBack(el)
	}
	e := el.Value.(*memEntry)
	e.committed = true
	e.expires = now.Add(m.ttl)
	return nil
}

// Release implements Deduper.
func (m *MemoryDedupe) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[key]; ok && !el.Value.(*memEntry).committed {
		m.order.Remove(el)
		delete(m.entries, key)
	}
	return nil
}

// Len returns the number of keys held.
func (m *MemoryDedupe) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
