package webhook

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callcrm/callcrm-go/internal/clock"
)

// Reservation is a claim on one dedupe key, held by its Token until it
// expires. Only the holder of the token can extend, commit or release it.
type Reservation struct {
	// Key is the namespaced dedupe key.
	Key string
	// Token identifies this reservation's owner (random per Reserve).
	Token string
	// Expires is when the claim lapses unless extended.
	Expires time.Time
}

// Deduper records which deliveries were processed, with reserve-before /
// commit-after / release-on-failure semantics and owner tokens:
//
//	res, err := d.Reserve(ctx, key) // ErrDuplicate or ErrInProgress
//	... run the callback, calling d.Extend(ctx, res) before res.Expires ...
//	if err != nil {
//		d.Release(ctx, res) // the sender's retry goes through
//	} else {
//		d.Commit(ctx, res) // later reservations get ErrDuplicate
//	}
//
// The contract every implementation meets (MemoryDedupe and
// webhook/sqldedupe are tested against it): Reserve is atomic (of
// concurrent reservations of a key exactly one succeeds); Commit, Extend
// and Release act only for the reservation's own token and otherwise
// return an error wrapping ErrNotOwner; a live reservation is never
// evicted; a committed key is remembered for the store's TTL. Safe for
// concurrent use.
type Deduper interface {
	// Reserve claims key. It returns an error wrapping ErrDuplicate when
	// key was committed, or ErrInProgress when another delivery holds a
	// live reservation.
	Reserve(ctx context.Context, key string) (Reservation, error)
	// Extend renews a live reservation for another lease.
	Extend(ctx context.Context, r Reservation) (Reservation, error)
	// Commit marks the key processed. It succeeds for the owner of the
	// reservation, and also when the reservation lapsed and nobody took
	// the key since.
	Commit(ctx context.Context, r Reservation) error
	// Release drops the reservation so a retry can process the key.
	Release(ctx context.Context, r Reservation) error
}

// Fingerprinter is an optional Deduper extension: a store that keeps a
// fingerprint of the delivered body with each committed key lets the
// receiver log a warning when a key repeats with a different body (a
// vendor reusing an id for other content, which is acknowledged as a
// duplicate and not processed). MemoryDedupe implements it; a shared store
// (sqldedupe) may, by storing the fingerprint, at most 71 bytes, in the
// committed row. The receiver's fingerprint is BodyHash of the verified
// body.
type Fingerprinter interface {
	// CommitFingerprint is Commit, also storing fingerprint with the key.
	CommitFingerprint(ctx context.Context, r Reservation, fingerprint string) error
	// SameFingerprint reports whether key was committed with fingerprint;
	// known is false when key is not committed or was committed without
	// one.
	SameFingerprint(ctx context.Context, key, fingerprint string) (same, known bool, err error)
}

// NewToken returns a random reservation token (32 hex characters). A token
// only has to be unique, not secret: it names a reservation's owner.
func NewToken() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}

// MemoryDedupe is an in-memory Deduper with a TTL for committed keys, a
// lease for reservations and a bound on the number of committed keys. It
// only deduplicates within one process; use a shared store (sqldedupe)
// across replicas.
type MemoryDedupe struct {
	ttl, lease time.Duration
	max        int
	clock      Clock
	logger     *slog.Logger
	evicted    atomic.Int64

	// Committed keys are kept as 128-bit keyed hashes in pointer-free
	// structures, so the garbage collector never scans them however many
	// there are (a map of strings and a linked list cost more GC time per
	// delivery than the rest of the receiver).
	seed1, seed2 maphash.Seed

	mu        sync.Mutex
	reserved  map[string]memEntry      // live reservations (few)
	committed map[keyHash]committedKey // key hash -> expiry and fingerprint
	order     []committedEntry         // commit order = expiry order (one TTL)
	head      int                      // order[head:] is live
}

// keyHash is a 128-bit keyed hash of a dedupe key (two maphash seeds): a
// collision between two of 100,000 keys has odds of about 1 in 10^28.
type keyHash [2]uint64

// committedKey is what MemoryDedupe keeps per committed key: its expiry
// (Unix nanoseconds) and a hash of its fingerprint (zero: none).
type committedKey struct {
	expires int64
	fp      keyHash
}

type committedEntry struct {
	h       keyHash
	expires int64
}

type memEntry struct {
	token   string
	expires time.Time
}

// MemoryOption configures a MemoryDedupe.
type MemoryOption func(*MemoryDedupe) error

// WithLease bounds how long a reservation blocks retries if nobody extends,
// commits or releases it (default 5 minutes). Receivers extend it while
// their callback runs.
func WithLease(d time.Duration) MemoryOption {
	return positive("WithLease", d, func(m *MemoryDedupe) { m.lease = d })
}

// WithMaxEntries bounds the number of committed keys kept (default
// 100,000). Past it the oldest committed key is dropped before its TTL,
// with a warning log and a count (Evicted): a redelivery of it would be
// processed again. Live reservations are never dropped.
func WithMaxEntries(n int) MemoryOption {
	return positive("WithMaxEntries", n, func(m *MemoryDedupe) { m.max = n })
}

// WithDedupeClock sets the clock (tests).
func WithDedupeClock(c Clock) MemoryOption {
	return notNil("WithDedupeClock", "clock", c == nil, func(m *MemoryDedupe) { m.clock = c })
}

// WithDedupeLogger receives the warning logged when a committed key is
// dropped before its TTL (a panic in l's handler is recovered).
func WithDedupeLogger(l *slog.Logger) MemoryOption {
	return func(m *MemoryDedupe) error { m.logger = safeLogger(l); return nil }
}

// NewMemoryDedupe returns a MemoryDedupe remembering committed keys for ttl.
// Choose a ttl longer than the sender's retry span (Svix retries for about
// a day and a half; SIVO for about 1h15m).
func NewMemoryDedupe(ttl time.Duration, opts ...MemoryOption) (*MemoryDedupe, error) {
	if ttl <= 0 {
		return nil, wrap(ErrInvalidOption, "NewMemoryDedupe: ttl %v must be positive", ttl)
	}
	m := &MemoryDedupe{ttl: ttl, lease: 5 * time.Minute, max: 100_000, clock: clock.Real{},
		reserved: map[string]memEntry{}, committed: map[keyHash]committedKey{}, seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	if err := applyOwn("NewMemoryDedupe", m, opts); err != nil {
		return nil, err
	}
	return m, nil
}

// Reserve implements Deduper.
func (m *MemoryDedupe) Reserve(_ context.Context, key string) (Reservation, error) {
	if key == "" {
		return Reservation{}, wrap(ErrMalformed, "empty dedupe key")
	}
	now := m.clock.Now()
	h := m.hash(key)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.expire(now)
	if _, ok := m.committed[h]; ok {
		return Reservation{}, wrap(ErrDuplicate, "%.80s", key)
	}
	if e, ok := m.reserved[key]; ok && now.Before(e.expires) {
		return Reservation{}, wrap(ErrInProgress, "%.80s", key)
	}
	e := memEntry{token: NewToken(), expires: now.Add(m.lease)}
	m.reserved[key] = e
	return Reservation{Key: key, Token: e.token, Expires: e.expires}, nil
}

func (m *MemoryDedupe) hash(key string) keyHash {
	return keyHash{maphash.String(m.seed1, key), maphash.String(m.seed2, key)}
}

// expire drops committed keys past their TTL (oldest first).
func (m *MemoryDedupe) expire(now time.Time) {
	n := now.UnixNano()
	for m.head < len(m.order) && m.order[m.head].expires <= n {
		m.popOldest()
	}
	m.compact()
}

// popOldest drops the oldest entry of order, and its key unless the key
// was committed again since (a later entry holds it).
func (m *MemoryDedupe) popOldest() bool {
	e := m.order[m.head]
	m.head++
	if c, ok := m.committed[e.h]; ok && c.expires == e.expires {
		delete(m.committed, e.h)
		return true
	}
	return false
}

// compact reclaims the dropped front of order.
func (m *MemoryDedupe) compact() {
	if m.head > 1024 && m.head > len(m.order)/2 {
		m.order = append(m.order[:0], m.order[m.head:]...)
		m.head = 0
	}
}

// Extend implements Deduper.
func (m *MemoryDedupe) Extend(_ context.Context, r Reservation) (Reservation, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.reserved[r.Key]
	if !ok || e.token != r.Token {
		return r, wrap(ErrNotOwner, "%.80s", r.Key)
	}
	e.expires = now.Add(m.lease)
	m.reserved[r.Key] = e
	r.Expires = e.expires
	return r, nil
}

// Commit implements Deduper.
func (m *MemoryDedupe) Commit(ctx context.Context, r Reservation) error {
	return m.CommitFingerprint(ctx, r, "")
}

// SameFingerprint implements Fingerprinter.
func (m *MemoryDedupe) SameFingerprint(_ context.Context, key, fingerprint string) (same, known bool, err error) {
	h := m.hash(key)
	m.mu.Lock()
	c, ok := m.committed[h]
	m.mu.Unlock()
	if !ok || c.fp == (keyHash{}) {
		return false, false, nil
	}
	return c.fp == m.hash(fingerprint), true, nil
}

// CommitFingerprint implements Fingerprinter.
func (m *MemoryDedupe) CommitFingerprint(ctx context.Context, r Reservation, fingerprint string) error {
	var fp keyHash
	if fingerprint != "" {
		fp = m.hash(fingerprint)
	}
	now := m.clock.Now()
	m.mu.Lock()
	e, ok := m.reserved[r.Key]
	if ok && e.token != r.Token && now.Before(e.expires) {
		m.mu.Unlock()
		return wrap(ErrNotOwner, "%.80s", r.Key)
	}
	delete(m.reserved, r.Key)
	h := m.hash(r.Key)
	m.expire(now)
	dropped := 0
	if _, again := m.committed[h]; !again {
		for len(m.committed) >= m.max && m.head < len(m.order) {
			if m.popOldest() {
				dropped++
			}
		}
	}
	exp := now.Add(m.ttl).UnixNano()
	m.committed[h] = committedKey{expires: exp, fp: fp}
	m.order = append(m.order, committedEntry{h: h, expires: exp})
	m.compact()
	m.mu.Unlock()
	if dropped > 0 {
		m.evicted.Add(int64(dropped))
		if m.logger != nil {
			m.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: dedupe at capacity, committed key dropped before its TTL",
				slog.Int("dropped", dropped), slog.Int("max_entries", m.max), slog.Duration("ttl", m.ttl))
		}
	}
	return nil
}

// Release implements Deduper.
func (m *MemoryDedupe) Release(_ context.Context, r Reservation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.reserved[r.Key]
	if !ok || e.token != r.Token {
		return wrap(ErrNotOwner, "%.80s", r.Key)
	}
	delete(m.reserved, r.Key)
	return nil
}

// Len returns the number of keys held (live reservations and committed).
func (m *MemoryDedupe) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.reserved) + len(m.committed)
}

// Evicted counts committed keys dropped before their TTL because the store
// was at WithMaxEntries.
func (m *MemoryDedupe) Evicted() int64 { return m.evicted.Load() }
