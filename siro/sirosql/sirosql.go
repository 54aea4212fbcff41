// Package sirosql keeps the state of Siro bulk syncs on the database you
// already run, so it survives crashes and is shared by replicas:
//
//   - Checkpoint is a siro.Checkpoint: how far a bulk sync got, per job.
//   - Limiter is a siro.Limiter: one token bucket per Siro token, shared by
//     every process and client that uses the token, so four replicas stay
//     under Siro's 1,000 requests per minute together. One round trip per
//     request.
//
// It uses database/sql only; you pass your own *sql.DB with the driver of
// your choice. PostgreSQL (9.5+; pgx's stdlib, lib/pq) and SQLite (3.35+;
// modernc.org/sqlite, mattn/go-sqlite3) are supported and both are tested;
// every statement is written once for both (INSERT ... ON CONFLICT,
// RETURNING, $n parameters, BIGINT times). The constructors tell the
// databases apart by the driver's package; a wrapped driver needs
// WithDialect.
//
// SQLite: one machine, one writer at a time. Several processes may share
// the file (each call is one short autocommit statement that takes the
// write lock at its start and waits for it), as long as the database is in
// WAL mode and every connection has a busy timeout: the constructors
// switch the file to WAL if it is not, and fail with an error saying how
// to open it when the busy timeout is under a second. Open it so:
//
//	db, err := sql.Open("sqlite", "file:crm.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
//
// The tables (CreateTable makes them, or run CheckpointDDL / LimiterDDL
// yourself):
//
//	CREATE TABLE IF NOT EXISTS siro_bulk_checkpoint (
//		job        TEXT PRIMARY KEY,
//		next_index BIGINT NOT NULL,  -- every record below is settled
//		updated_at BIGINT NOT NULL   -- Unix milliseconds
//	);
//	CREATE TABLE IF NOT EXISTS siro_rate_limit (
//		bucket TEXT PRIMARY KEY,     -- one per Siro token
//		tat    BIGINT NOT NULL       -- next free slot, Unix microseconds
//	);
//
// The limiter reads time from the process's clock, not the database's:
// keep replicas' clocks in sync (NTP); a skew of d shifts their slots by d.
// A replica whose clock is ahead by d sends up to d worth of requests
// (d x perMinute / 60) early, so as many more can fall in one 60-second
// window: 900 per minute leaves room for about 6 s of skew under Siro's
// 1,000. Its bookings also push the bucket d into the other replicas'
// future, so they wait up to d more. Every replica must pass the same
// perMinute and burst for one bucket: the row keeps no configuration.
package sirosql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/callcrm/callcrm-go/internal/opterr"
	"github.com/callcrm/callcrm-go/internal/sqldb"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/webhook"
)

// Default table names.
const (
	DefaultCheckpointTable = "siro_bulk_checkpoint"
	DefaultLimiterTable    = "siro_rate_limit"
)

// Option configures a Checkpoint or a Limiter.
type Option func(*config) error

type config struct {
	table   string
	clock   webhook.Clock
	burst   int
	dialect Dialect
}

// Dialect is the SQL database behind the *sql.DB.
type Dialect int

// The databases a Checkpoint and a Limiter speak.
const (
	// PostgreSQL 9.5 or newer.
	PostgreSQL Dialect = iota + 1
	// SQLite 3.35 or newer (WAL and a busy timeout, see the package doc).
	SQLite
)

// String names the dialect.
func (d Dialect) String() string { return sqldb.Dialect(d).String() }

// WithDialect says which database db is, for a driver the constructors
// cannot recognise by its package (for instance one wrapped for tracing).
// By default they detect it: pgx's stdlib and lib/pq are PostgreSQL;
// modernc.org/sqlite, mattn/go-sqlite3 and ncruces/go-sqlite3 are SQLite.
func WithDialect(d Dialect) Option {
	return sqldb.DialectOption("sirosql", siro.ErrInvalidOption, d, func(c *config) { c.dialect = d })
}

// WithTable sets the table name; it must be an identifier, optionally
// schema-qualified, and is validated against injection.
func WithTable(name string) Option {
	return sqldb.TableOption("sirosql", siro.ErrInvalidOption, name, func(c *config) { c.table = name })
}

// WithClock sets the clock (tests; every replica's limiter must read the
// same time).
func WithClock(clk webhook.Clock) Option {
	return opterr.NotNil("sirosql", "WithClock", siro.ErrInvalidOption, "clock", clk == nil, func(c *config) { c.clock = clk })
}

// WithBurst lets a Limiter send n requests at once after an idle spell
// (default 1: evenly spaced); see siro.LimiterConfig.Burst.
func WithBurst(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return opterr.New("sirosql", "WithBurst", siro.ErrInvalidOption, "burst %d must be at least 1", n)
		}
		c.burst = n
		return nil
	}
}

func newConfig(db *sql.DB, table string, opts []Option) (*config, error) {
	c := &config{table: table, clock: realClock{}, burst: 1}
	if err := sqldb.Setup("sirosql", "NewCheckpoint/NewLimiter", siro.ErrInvalidOption, db, c, opts, &c.dialect); err != nil {
		return nil, err
	}
	return c, nil
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// --- Checkpoint --------------------------------------------------------------

// Checkpoint is a siro.Checkpoint stored in one row per job. Save never
// moves a job's index back (only Reset does): every record below any
// saved index is settled, so the furthest is kept. Nothing keeps two
// replicas from running one job at once: each loads the same index and
// sends every record past it (an upsert each, so twice the requests but
// nothing lost), and the checkpoint holds the furthest prefix either
// settled. Run one replica per job (a job queue, a lock) to avoid the
// double work. Safe for concurrent use.
type Checkpoint struct {
	db                   *sql.DB
	table, job           string
	clock                webhook.Clock
	qLoad, qSave, qReset string
}

// CheckpointDDL returns the statement that creates the checkpoint table.
func CheckpointDDL(table string) ([]string, error) {
	if err := sqldb.CheckTable("sirosql", siro.ErrInvalidOption, table); err != nil {
		return nil, err
	}
	return []string{`CREATE TABLE IF NOT EXISTS ` + table + ` (
	job        TEXT PRIMARY KEY,
	next_index BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
)`}, nil
}

// NewCheckpoint returns the checkpoint of job (name it after the input,
// e.g. "engagements-backfill-2026-11") on db, in DefaultCheckpointTable
// unless WithTable says otherwise. It does not create the table: call
// CreateTable or run CheckpointDDL in your migrations.
func NewCheckpoint(db *sql.DB, job string, opts ...Option) (*Checkpoint, error) {
	if job == "" {
		return nil, opterr.New("sirosql", "NewCheckpoint", siro.ErrInvalidOption, "checkpoint job name is empty")
	}
	c, err := newConfig(db, DefaultCheckpointTable, opts)
	if err != nil {
		return nil, err
	}
	t := c.table
	return &Checkpoint{db: db, table: t, job: job, clock: c.clock,
		qLoad: `SELECT next_index FROM ` + t + ` WHERE job = $1`,
		qSave: `INSERT INTO ` + t + ` (job, next_index, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (job) DO UPDATE SET next_index = (CASE WHEN ` + t + `.next_index > excluded.next_index THEN ` + t + `.next_index ELSE excluded.next_index END), updated_at = excluded.updated_at`,
		qReset: `DELETE FROM ` + t + ` WHERE job = $1`,
	}, nil
}

// CreateTable creates the table if it does not exist.
func (c *Checkpoint) CreateTable(ctx context.Context) error {
	return sqldb.CreateTable(ctx, c.db, "sirosql", c.table, CheckpointDDL)
}

// Load implements siro.Checkpoint: 0 for a job never saved.
func (c *Checkpoint) Load(ctx context.Context) (int64, error) {
	var n int64
	err := c.db.QueryRowContext(ctx, c.qLoad, c.job).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sirosql: loading checkpoint %q: %w", c.job, err)
	}
	return n, nil
}

// Save implements siro.Checkpoint; an index below the saved one is
// ignored (see Checkpoint).
func (c *Checkpoint) Save(ctx context.Context, next int64) error {
	if next < 0 {
		return fmt.Errorf("sirosql: checkpoint %q: index %d is negative", c.job, next)
	}
	if _, err := c.db.ExecContext(ctx, c.qSave, c.job, next, c.clock.Now().UnixMilli()); err != nil {
		return fmt.Errorf("sirosql: saving checkpoint %q: %w", c.job, err)
	}
	return nil
}

// Reset forgets the job's progress (the next run starts from 0).
func (c *Checkpoint) Reset(ctx context.Context) error {
	if _, err := c.db.ExecContext(ctx, c.qReset, c.job); err != nil {
		return fmt.Errorf("sirosql: resetting checkpoint %q: %w", c.job, err)
	}
	return nil
}

// --- Limiter -----------------------------------------------------------------

// Limiter is a siro.Limiter shared through the database: a token bucket
// (GCRA: one "next free slot" per bucket) that every replica advances with
// one INSERT ... ON CONFLICT DO UPDATE ... RETURNING per request, then
// waits for its slot on its own clock. No 60-second window of the
// replicas' combined requests holds more than the configured rate. A
// cancelled wait forfeits its slot: the slot stays taken and is not handed
// to the next request, so the rate can only be undershot. A database
// error fails the request (fail-closed: nothing is sent unpaced). Safe
// for concurrent use.
type Limiter struct {
	db                  *sql.DB
	table, bucket       string
	clock               webhook.Clock
	interval, allowance int64 // microseconds: slot spacing, burst x spacing
	qAcquire            string
}

// LimiterDDL returns the statement that creates the limiter table.
func LimiterDDL(table string) ([]string, error) {
	if err := sqldb.CheckTable("sirosql", siro.ErrInvalidOption, table); err != nil {
		return nil, err
	}
	return []string{`CREATE TABLE IF NOT EXISTS ` + table + ` (
	bucket TEXT PRIMARY KEY,
	tat    BIGINT NOT NULL
)`}, nil
}

// NewLimiter returns the limiter of bucket (name it after the Siro token,
// e.g. "siro-org-prod"; never the token itself) allowing perMinute requests
// in any 60-second window across every process that uses the same bucket
// and table. Siro allows 1,000 per token (siro.SiroRequestsPerMinute);
// leave headroom for clocks and other tools. It does not create the table:
// call CreateTable or run LimiterDDL in your migrations.
func NewLimiter(db *sql.DB, bucket string, perMinute int, opts ...Option) (*Limiter, error) {
	if bucket == "" {
		return nil, opterr.New("sirosql", "NewLimiter", siro.ErrInvalidOption, "limiter bucket name is empty")
	}
	c, err := newConfig(db, DefaultLimiterTable, opts)
	if err != nil {
		return nil, err
	}
	iv, err := siro.LimiterConfig{PerMinute: perMinute, Burst: c.burst}.Interval()
	if err != nil {
		return nil, err
	}
	ivUS := int64((iv + time.Microsecond - 1) / time.Microsecond)
	t := c.table
	return &Limiter{db: db, table: t, bucket: bucket, clock: c.clock, interval: ivUS, allowance: int64(c.burst) * ivUS,
		// $2 now, $3 the interval (Unix microseconds). The same text runs on
		// PostgreSQL and SQLite (CASE rather than GREATEST/MAX).
		qAcquire: `INSERT INTO ` + t + ` (bucket, tat) VALUES ($1, CAST($2 AS BIGINT) + CAST($3 AS BIGINT))
ON CONFLICT (bucket) DO UPDATE SET tat = (CASE WHEN ` + t + `.tat > CAST($2 AS BIGINT) THEN ` + t + `.tat ELSE CAST($2 AS BIGINT) END) + CAST($3 AS BIGINT)
RETURNING tat`,
	}, nil
}

// CreateTable creates the table if it does not exist.
func (l *Limiter) CreateTable(ctx context.Context) error {
	return sqldb.CreateTable(ctx, l.db, "sirosql", l.table, LimiterDDL)
}

// Reserve books the bucket's next slot and returns when it is.
func (l *Limiter) Reserve(ctx context.Context) (time.Time, error) {
	now := l.clock.Now().UnixMicro()
	var tat int64
	if err := l.db.QueryRowContext(ctx, l.qAcquire, l.bucket, now, l.interval).Scan(&tat); err != nil {
		return time.Time{}, fmt.Errorf("sirosql: rate limiter %q: %w", l.bucket, err)
	}
	return time.UnixMicro(max(tat-l.allowance, now)), nil
}

// Wait implements siro.Limiter.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	at, err := l.Reserve(ctx)
	if err != nil {
		return err
	}
	return siro.WaitUntil(ctx, l.clock, at)
}

var (
	_ siro.Checkpoint = (*Checkpoint)(nil)
	_ siro.Limiter    = (*Limiter)(nil)
)
