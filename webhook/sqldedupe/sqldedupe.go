// Package sqldedupe is a webhook.Deduper on the database you already run,
// so deduplication holds across replicas: a vendor's redelivery that lands
// on another replica than the first attempt is still recognised.
//
//	store, err := sqldedupe.New(db) // your *sql.DB (pgx stdlib, lib/pq, SQLite)
//	if err != nil {
//		return err
//	}
//	if err := store.CreateTable(ctx); err != nil {
//		return err
//	}
//	h, err := sivo.NewHandler([]string{secret}, callbacks, webhook.WithDedupe(store))
//	if err != nil {
//		return err
//	}
//	http.Handle("/webhooks/sivo", h) // every replica shares the same dedupe table
//
// It uses database/sql only; you pass your own *sql.DB with the driver of
// your choice. PostgreSQL (9.5+; pgx's stdlib, lib/pq) and SQLite (3.24+;
// modernc.org/sqlite, mattn/go-sqlite3) are supported and both are tested.
// New tells them apart by the driver's package; a wrapped driver (a
// tracing wrapper) needs WithDialect.
//
// Leases are judged by the database's clock, never a replica's: every
// statement reads the time in SQL (clock_timestamp() on PostgreSQL,
// julianday('now') on SQLite), so replicas whose clocks disagree still
// agree on when a reservation lapsed. The process clock (WithClock) only
// sets the Reservation.Expires handed to the receiver, which renews the
// lease before it.
//
// SQLite: one machine, one writer at a time. Several processes may share
// the file (each delivery is one short autocommit statement that takes the
// write lock at its start and waits for it), as long as the database is in
// WAL mode and every connection has a busy timeout: New switches the file
// to WAL if it is not, and fails with an error saying how to open it when
// the busy timeout is under a second. Open it so:
//
//	db, err := sql.Open("sqlite", "file:crm.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
//
// The table (CreateTable makes it, or run DDL yourself):
//
//	CREATE TABLE IF NOT EXISTS webhook_dedupe (
//		key        TEXT PRIMARY KEY,
//		state      SMALLINT NOT NULL,  -- 0 reserved, 1 committed
//		token      TEXT NOT NULL,      -- the reservation's owner
//		expires_at BIGINT NOT NULL     -- Unix milliseconds
//	);
//	CREATE INDEX IF NOT EXISTS webhook_dedupe_expires_at ON webhook_dedupe (expires_at);
//
// A reservation expires after its lease, so a replica that died
// mid-handler does not block the event forever; a committed key expires
// after the TTL. Cleanup deletes expired rows in small batches.
package sqldedupe

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callcrm/callcrm-go/internal/clock"
	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/internal/sqldb"
	"github.com/callcrm/callcrm-go/webhook"
)

// Store implements webhook.Deduper on a SQL table. Safe for concurrent use.
type Store struct {
	db       *sql.DB
	table    string
	ttl      time.Duration
	lease    time.Duration
	failOpen bool
	clock    clock.Clock
	log      *slog.Logger
	batch    int
	dialect  Dialect
	// dbOffset, when set (tests), is added to the database's clock so a
	// fake clock can move it.
	dbOffset func() time.Duration

	qReserve, qState, qExtend, qCommit, qRelease, qCleanup string
}

// Dialect is the SQL database behind the *sql.DB.
type Dialect int

// The databases a Store speaks.
const (
	// PostgreSQL 9.5 or newer.
	PostgreSQL Dialect = iota + 1
	// SQLite 3.24 or newer (WAL and a busy timeout, see the package doc).
	SQLite
)

// String names the dialect.
func (d Dialect) String() string { return sqldb.Dialect(d).String() }

// WithDialect says which database db is, for a driver New cannot
// recognise by its package (for instance one wrapped for tracing). By
// default New detects it: pgx's stdlib and lib/pq are PostgreSQL;
// modernc.org/sqlite, mattn/go-sqlite3 and ncruces/go-sqlite3 are SQLite.
func WithDialect(d Dialect) Option {
	return sqldb.DialectOption("sqldedupe", webhook.ErrInvalidOption, d, func(s *Store) { s.dialect = d })
}

// Option configures a Store.
type Option func(*Store) error

// WithTable sets the table name (default "webhook_dedupe"); it must be an
// identifier, optionally schema-qualified, and is validated against
// injection.
func WithTable(name string) Option {
	return sqldb.TableOption("sqldedupe", webhook.ErrInvalidOption, name, func(s *Store) { s.table = name })
}

// WithTTL sets how long committed keys are remembered (default 72 h);
// choose longer than the vendor's retry span.
func WithTTL(d time.Duration) Option {
	return opterr.Positive("sqldedupe", "WithTTL", webhook.ErrInvalidOption, "ttl", d, func(s *Store) { s.ttl = d })
}

// WithLease sets how long a reservation blocks other deliveries of the same
// key if its handler never commits or releases (default 2 min); make it
// longer than your slowest handler. The receiver renews it while the
// callback runs and until the commit lands, but nobody can renew it while
// the database is down: a database outage longer than the lease lets a
// redelivery take the lapsed reservation once the database is back and
// process the event a second time. Choose a lease longer than the outages
// you want to ride out.
func WithLease(d time.Duration) Option {
	return opterr.Positive("sqldedupe", "WithLease", webhook.ErrInvalidOption, "lease", d, func(s *Store) { s.lease = d })
}

// FailOpen makes Reserve succeed when the database is unreachable, so
// deliveries are processed (possibly twice) while it is down. The default
// is fail-closed: Reserve returns the error, the middleware answers 5xx and
// the vendor retries later.
func FailOpen() Option { return func(s *Store) error { s.failOpen = true; return nil } }

// WithClock sets the process clock (tests). It only dates the
// Reservation.Expires handed to the receiver; leases are judged by the
// database's clock.
func WithClock(c webhook.Clock) Option {
	return opterr.NotNil("sqldedupe", "WithClock", webhook.ErrInvalidOption, "clock", c == nil, func(s *Store) { s.clock = c })
}

// WithLogger logs database errors swallowed in fail-open mode. A panic in
// l's handler is recovered: the delivery goes on as if the line was logged.
func WithLogger(l *slog.Logger) Option { return func(s *Store) error { s.log = l; return nil } }

// WithCleanupBatch sets how many rows one Cleanup statement deletes
// (default 1000), bounding how long it holds locks.
func WithCleanupBatch(n int) Option {
	return opterr.Positive("sqldedupe", "WithCleanupBatch", webhook.ErrInvalidOption, "cleanup batch", n, func(s *Store) { s.batch = n })
}

// New returns a Store on db. It does not create the table: call
// CreateTable or run DDL(table) in your migrations.
func New(db *sql.DB, opts ...Option) (*Store, error) {
	s := &Store{db: db, table: "webhook_dedupe", ttl: 72 * time.Hour, lease: 2 * time.Minute, clock: clock.Real{}, batch: 1000}
	if err := sqldb.Setup("sqldedupe", "New", webhook.ErrInvalidOption, db, s, opts, &s.dialect); err != nil {
		return nil, err
	}
	s.prepare()
	return s, nil
}

// prepare writes the statements for the table and dialect. The
// database's clock, in Unix milliseconds, is now; its last parameter is
// the test offset (0 in production).
func (s *Store) prepare() {
	t := s.table
	nowAt := func(param string) string {
		if s.dialect == SQLite {
			return `(CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) + CAST(` + param + ` AS INTEGER))`
		}
		return `(CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) + CAST(` + param + ` AS BIGINT))`
	}
	now := nowAt("$4")
	// $1 key, $2 token, $3 lease or TTL in milliseconds, $4 offset.
	s.qReserve = `INSERT INTO ` + t + ` (key, state, token, expires_at) VALUES ($1, 0, $2, ` + now + ` + CAST($3 AS BIGINT))
ON CONFLICT (key) DO UPDATE SET state = 0, token = excluded.token, expires_at = excluded.expires_at
WHERE ` + t + `.expires_at <= ` + now
	s.qState = `SELECT state FROM ` + t + ` WHERE key = $1`
	s.qExtend = `UPDATE ` + t + ` SET expires_at = ` + now + ` + CAST($3 AS BIGINT) WHERE key = $1 AND token = $2 AND state = 0`
	// A commit lands for the reservation's owner, or when the row lapsed
	// and nobody took it since (or Cleanup removed it).
	s.qCommit = `INSERT INTO ` + t + ` (key, state, token, expires_at) VALUES ($1, 1, $2, ` + now + ` + CAST($3 AS BIGINT))
ON CONFLICT (key) DO UPDATE SET state = 1, token = excluded.token, expires_at = excluded.expires_at
WHERE ` + t + `.token = excluded.token OR (` + t + `.state = 0 AND ` + t + `.expires_at <= ` + now + `)`
	s.qRelease = `DELETE FROM ` + t + ` WHERE key = $1 AND token = $2 AND state = 0`
	// $1 batch, $2 offset.
	s.qCleanup = `DELETE FROM ` + t + ` WHERE key IN (SELECT key FROM ` + t + ` WHERE expires_at < ` + nowAt("$2") + ` LIMIT $1)`
}

// offset is the test shift of the database's clock, in milliseconds.
func (s *Store) offset() int64 {
	if s.dbOffset == nil {
		return 0
	}
	return s.dbOffset().Milliseconds()
}

// DDL returns the statements that create the table and its index.
func DDL(table string) ([]string, error) {
	if !sqldb.ValidTable(table) {
		return nil, opterr.New("sqldedupe", "DDL", webhook.ErrInvalidOption, "table name %q", table)
	}
	idx := table
	for i := len(idx) - 1; i >= 0; i-- {
		if idx[i] == '.' {
			idx = idx[i+1:]
			break
		}
	}
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + table + ` (
	key        TEXT PRIMARY KEY,
	state      SMALLINT NOT NULL,
	token      TEXT NOT NULL,
	expires_at BIGINT NOT NULL
)`,
		`CREATE INDEX IF NOT EXISTS ` + idx + `_expires_at ON ` + table + ` (expires_at)`,
	}, nil
}

// CreateTable creates the table and index if they do not exist.
func (s *Store) CreateTable(ctx context.Context) error {
	return sqldb.CreateTable(ctx, s.db, "sqldedupe", s.table, DDL)
}

// Reserve implements webhook.Deduper: exactly one of concurrent
// reservations of a key succeeds, on any replica. Whether an earlier
// reservation lapsed is judged by the database's clock.
func (s *Store) Reserve(ctx context.Context, key string) (webhook.Reservation, error) {
	if key == "" {
		return webhook.Reservation{}, fmt.Errorf("%w: empty dedupe key", webhook.ErrMalformed)
	}
	// Expires is on the process clock, read before the statement: the
	// database's lease starts later, so the receiver renews in time.
	res := webhook.Reservation{Key: key, Token: webhook.NewToken(), Expires: s.clock.Now().Add(s.lease)}
	r, err := s.db.ExecContext(ctx, s.qReserve, dbKey(key), res.Token, s.lease.Milliseconds(), s.offset())
	if err != nil {
		return res, s.dbErr(ctx, "reserve", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return res, s.dbErr(ctx, "reserve", err)
	}
	if n == 1 {
		return res, nil
	}
	var state int
	err = s.db.QueryRowContext(ctx, s.qState, dbKey(key)).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Released or cleaned up between the two statements: let the
		// sender retry rather than guess.
		return webhook.Reservation{}, fmt.Errorf("%w: %.80s", webhook.ErrInProgress, key)
	case err != nil:
		// In fail-open mode dbErr returns nil: hand back this delivery's
		// own reservation (its key and token), never an empty one.
		return res, s.dbErr(ctx, "reserve", err)
	case state == 1:
		return webhook.Reservation{}, fmt.Errorf("%w: %.80s", webhook.ErrDuplicate, key)
	}
	return webhook.Reservation{}, fmt.Errorf("%w: %.80s", webhook.ErrInProgress, key)
}

// Extend implements webhook.Deduper: it renews the lease of a live
// reservation held by r.Token. A database error (an outage) is returned as
// it is, never as webhook.ErrNotOwner: the reservation may well still be
// ours, and the receiver keeps trying.
func (s *Store) Extend(ctx context.Context, r webhook.Reservation) (webhook.Reservation, error) {
	exp := s.clock.Now().Add(s.lease)
	if err := s.execOwned(ctx, "extend", r, s.qExtend, s.lease.Milliseconds(), s.offset()); err != nil {
		return r, err
	}
	r.Expires = exp
	return r, nil
}

// Commit implements webhook.Deduper. It fails with webhook.ErrNotOwner
// only when another delivery took the key after this reservation lapsed
// (by the database's clock); a database error is returned as it is, and
// retrying the same Commit after an outage is safe (a commit that landed
// before the connection broke is found again).
func (s *Store) Commit(ctx context.Context, r webhook.Reservation) error {
	return s.execOwned(ctx, "commit", r, s.qCommit, s.ttl.Milliseconds(), s.offset())
}

// Release implements webhook.Deduper; it only drops the live reservation
// held by r.Token, never another replica's or a commit.
func (s *Store) Release(ctx context.Context, r webhook.Reservation) error {
	return s.execOwned(ctx, "release", r, s.qRelease)
}

// execOwned runs q, a statement that changes r's row only while r.Token
// holds it, with the key and token, then args. A database error is
// returned as it is, labelled op; no row changed is webhook.ErrNotOwner.
func (s *Store) execOwned(ctx context.Context, op string, r webhook.Reservation, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, append([]any{dbKey(r.Key), r.Token}, args...)...)
	if err != nil {
		return fmt.Errorf("sqldedupe: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqldedupe: %s: %w", op, err)
	}
	if n != 1 {
		return fmt.Errorf("%w: %.80s", webhook.ErrNotOwner, r.Key)
	}
	return nil
}

// Cleanup deletes rows expired by the database's clock, in batches (each
// its own short statement), and returns how many it deleted. Run it
// periodically.
func (s *Store) Cleanup(ctx context.Context) (int64, error) {
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, s.qCleanup, s.batch, s.offset())
		if err != nil {
			return total, fmt.Errorf("sqldedupe: cleanup: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("sqldedupe: cleanup: %w", err)
		}
		total += n
		if n < int64(s.batch) {
			return total, nil
		}
	}
}

func (s *Store) dbErr(ctx context.Context, op string, err error) error {
	if s.failOpen && op == "reserve" && ctx.Err() == nil {
		s.warn(ctx, "sqldedupe: database error, failing open", slog.String("op", op), slog.String("error", err.Error()))
		return nil
	}
	return fmt.Errorf("sqldedupe: %s: %w", op, err)
}

// warn logs through the user's logger; a panic in its handler is
// recovered, so a broken logger never turns a delivery into a dropped
// connection.
func (s *Store) warn(ctx context.Context, msg string, attrs ...slog.Attr) {
	if s.log == nil {
		return
	}
	defer func() { _ = recover() }()
	s.log.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

var _ webhook.Deduper = (*Store)(nil)

// encodedKey marks a key stored encoded (a control character no engine
// key starts with).
const encodedKey = "\x01b64:"

// dbKey is the key as stored: as given, unless PostgreSQL's TEXT cannot
// hold it (a NUL, invalid UTF-8) or it starts with the encoded marker;
// then the marker and the key in base64. The mapping is one to one, so an
// encoded key never collides with a stored one, and SQLite and PostgreSQL
// store the same bytes.
func dbKey(key string) string {
	if utf8.ValidString(key) && !strings.ContainsRune(key, 0) && !strings.HasPrefix(key, encodedKey) {
		return key
	}
	return encodedKey + base64.RawURLEncoding.EncodeToString([]byte(key))
}
