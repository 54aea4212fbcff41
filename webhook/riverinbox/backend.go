package riverinbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"github.com/callcrm/callcrm-go/internal/sqldb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// backend is what the inbox needs from one database and driver, beyond
// River: transactions in the caller's type, a few statements of its own
// (the processed table), and a lock for Migrate.
type backend[TTx any] struct {
	name     string
	sqlite   bool
	pgx      bool // LISTEN/NOTIFY available
	driver   riverdriver.Driver[TTx]
	begin    func(ctx context.Context) (TTx, error)
	commit   func(ctx context.Context, tx TTx) error
	rollback func(ctx context.Context, tx TTx) error
	// execTx runs q in tx and returns the rows it affected.
	execTx func(ctx context.Context, tx TTx, q string, args ...any) (int64, error)
	// exec runs q on the pool.
	exec func(ctx context.Context, q string, args ...any) (int64, error)
	// queryPairs runs q on the pool and returns the rows of (text, int).
	queryPairs func(ctx context.Context, q string, args ...any) ([]pair, error)
	// lock takes the migration lock (PostgreSQL advisory lock), nil on SQLite.
	lock func(ctx context.Context, key int64) (func(), error)
}

type pair struct {
	s string
	n int64
}

// pairRows is what scanPairs reads: pgx.Rows and *sql.Rows.
type pairRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanPairs reads every (text, int) row of rows; the caller closes rows.
func scanPairs(rows pairRows) ([]pair, error) {
	var out []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.s, &p.n); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

var dollarRe = regexp.MustCompile(`\$[0-9]+`)

// q rewrites a query written with $n placeholders for the database.
func (b *backend[TTx]) q(query string) string {
	if b.sqlite {
		return dollarRe.ReplaceAllString(query, "?")
	}
	return query
}

func pgxBackend(pool *pgxpool.Pool) *backend[pgx.Tx] {
	return &backend[pgx.Tx]{
		name:     "PostgreSQL (pgx)",
		pgx:      true,
		driver:   riverpgxv5.New(pool),
		begin:    func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
		commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
		rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
		execTx: func(ctx context.Context, tx pgx.Tx, q string, args ...any) (int64, error) {
			tag, err := tx.Exec(ctx, q, args...)
			return tag.RowsAffected(), err
		},
		exec: func(ctx context.Context, q string, args ...any) (int64, error) {
			tag, err := pool.Exec(ctx, q, args...)
			return tag.RowsAffected(), err
		},
		queryPairs: func(ctx context.Context, q string, args ...any) ([]pair, error) {
			rows, err := pool.Query(ctx, q, args...)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			return scanPairs(rows)
		},
		lock: func(ctx context.Context, key int64) (func(), error) {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				return nil, err
			}
			if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
				conn.Release()
				return nil, err
			}
			return func() {
				_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
				conn.Release()
			}, nil
		},
	}
}

func sqlBackend(db *sql.DB, sqlite bool) *backend[*sql.Tx] {
	b := &backend[*sql.Tx]{
		name:     "PostgreSQL (database/sql)",
		sqlite:   sqlite,
		begin:    func(ctx context.Context) (*sql.Tx, error) { return db.BeginTx(ctx, nil) },
		commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
		execTx: func(ctx context.Context, tx *sql.Tx, q string, args ...any) (int64, error) {
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		},
		exec: func(ctx context.Context, q string, args ...any) (int64, error) {
			res, err := db.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		},
		queryPairs: func(ctx context.Context, q string, args ...any) ([]pair, error) {
			rows, err := db.QueryContext(ctx, q, args...)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			return scanPairs(rows)
		},
	}
	if sqlite {
		b.name = "SQLite"
		b.driver = riversqlite.New(db)
		return b
	}
	b.driver = riverdatabasesql.New(db)
	b.lock = func(ctx context.Context, key int64) (func(), error) {
		conn, err := db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
			_ = conn.Close()
		}, nil
	}
	return b
}

// SQLiteDSN returns a modernc.org/sqlite data source name for the file at
// path with what the inbox needs: WAL journal (readers never block the
// writer), a 10 s busy timeout (a writer waits for the lock instead of
// failing at once) and immediate transactions (a transaction takes the
// write lock when it begins, so two never deadlock upgrading a read lock).
// Open it with sql.Open("sqlite", riverinbox.SQLiteDSN(path)).
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
}

// checkSQLite verifies what the inbox needs from a SQLite pool: what
// every SQL store of this module needs (sqldb.CheckSQLite: WAL, which it
// sets if the file lacks it, and a busy timeout), a file rather than a
// temporary database, and transactions that begin IMMEDIATE; it fails
// with what to change otherwise.
func checkSQLite(ctx context.Context, db *sql.DB) error {
	if err := sqldb.CheckSQLite(ctx, db); err != nil {
		return fmt.Errorf("riverinbox.NewSQLite: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("riverinbox.NewSQLite: %w", err)
	}
	defer conn.Close()
	var file string
	rows, err := conn.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return fmt.Errorf("riverinbox.NewSQLite: is this a SQLite database? %w", err)
	}
	for rows.Next() {
		var seq int
		var name, f string
		if err := rows.Scan(&seq, &name, &f); err == nil && name == "main" {
			file = f
		}
	}
	_ = rows.Close()
	if file == "" {
		return errors.New("riverinbox.NewSQLite: the database is in memory (or temporary): deliveries would be lost when the process ends; open a file (riverinbox.SQLiteDSN)")
	}
	if db.Stats().MaxOpenConnections == 1 {
		return nil // one connection: no two transactions to deadlock
	}
	// Probe that transactions begin IMMEDIATE (_txlock=immediate): while
	// one is open, another connection cannot take the write lock.
	probe, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("riverinbox.NewSQLite: %w", err)
	}
	defer probe.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("riverinbox.NewSQLite: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var probeBusy int
	_ = probe.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&probeBusy)
	if _, err := probe.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return fmt.Errorf("riverinbox.NewSQLite: %w", err)
	}
	_, lockErr := probe.ExecContext(ctx, "BEGIN IMMEDIATE")
	if lockErr == nil {
		_, _ = probe.ExecContext(ctx, "ROLLBACK")
	}
	_, _ = probe.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", probeBusy))
	if lockErr == nil {
		return errors.New("riverinbox.NewSQLite: transactions begin DEFERRED: two writers can deadlock upgrading their read locks (SQLITE_BUSY without waiting); add _txlock=immediate to the DSN (riverinbox.SQLiteDSN does) or db.SetMaxOpenConns(1)")
	}
	return nil
}
