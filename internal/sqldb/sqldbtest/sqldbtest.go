// Package sqldbtest opens the databases the SQL stores' tests run on
// (webhook/sqldedupe, siro/sirosql): PostgreSQL from CALLCRM_TEST_POSTGRES
// and a SQLite file opened as the stores' package docs say. It imports no
// driver: a test registers "pgx" (github.com/jackc/pgx/v5/stdlib) and
// "sqlite" (modernc.org/sqlite) itself.
package sqldbtest

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/sqldb"
)

// PostgresDSN returns the test server's address. Without one the test
// skips with instructions, except under CI (.ci/run starts a server and
// sets CALLCRM_REQUIRE_POSTGRES), where it fails.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("CALLCRM_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CALLCRM_REQUIRE_POSTGRES") != "" {
			t.Fatal("CALLCRM_REQUIRE_POSTGRES is set but CALLCRM_TEST_POSTGRES is empty")
		}
		t.Skip("no PostgreSQL: set CALLCRM_TEST_POSTGRES=postgres://user@host:port/db, or from the repository root run `bash -c 'source .ci/postgres && ./.ci/test'`")
	}
	return dsn
}

// SQLiteDSN opens path as the stores' package docs say: WAL, a busy
// timeout on every connection, immediate transactions.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
}

// Backend is one database a test runs on: Open returns a new connection
// pool on the test's database (each replica or "process" has its own),
// closed when the test ends.
type Backend struct {
	// Name is "PostgreSQL" or "SQLite".
	Name string
	// Open opens and pings a new pool.
	Open func(t testing.TB) *sql.DB
}

// Postgres is the PostgreSQL backend (it skips without a server).
func Postgres(t testing.TB) Backend {
	t.Helper()
	return backend("PostgreSQL", "pgx", PostgresDSN(t))
}

// SQLite is a SQLite file named file in t.TempDir(), shared by every pool
// the test opens on it.
func SQLite(t testing.TB, file string) Backend {
	return backend("SQLite", "sqlite", SQLiteDSN(filepath.Join(t.TempDir(), file)))
}

func backend(name, driver, dsn string) Backend {
	return Backend{Name: name, Open: func(t testing.TB) *sql.DB {
		t.Helper()
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		if err := db.Ping(); err != nil {
			t.Fatal(err)
		}
		return db
	}}
}

// Each runs f on SQLite (a file named file) and on PostgreSQL (which skips
// without a server), as subtests named after the backend.
func Each(t *testing.T, file string, f func(t *testing.T, b Backend)) {
	t.Run("SQLite", func(t *testing.T) { f(t, SQLite(t, file)) })
	t.Run("PostgreSQL", func(t *testing.T) { f(t, Postgres(t)) })
}

var tableSeq atomic.Int64

// Table returns a table name starting with prefix that no other test uses
// (tests share the PostgreSQL database) and drops the table when the test
// ends.
func Table(t testing.TB, db *sql.DB, prefix string) string {
	name := fmt.Sprintf("%s_%d_%d", prefix, time.Now().UnixNano()%1e9, tableSeq.Add(1))
	t.Cleanup(func() { _, _ = db.Exec("DROP TABLE IF EXISTS " + name) })
	return name
}

// unknownDriver is a database/sql driver no store recognises; it never
// connects.
type unknownDriver struct{}

func (unknownDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("unknownDriver never connects")
}

var registerUnknown sync.Once

// UnknownDB returns a *sql.DB whose driver tells no dialect (as a tracing
// wrapper's would): a store needs WithDialect for it. It never connects.
func UnknownDB(t testing.TB) *sql.DB {
	registerUnknown.Do(func() { sql.Register("sqldbtest-unknown", unknownDriver{}) })
	db, err := sql.Open("sqldbtest-unknown", "")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// OpenSQLiteFile opens a SQLite file named file in t.TempDir() as the
// stores' docs say, closed when the test ends, and returns its path for
// other processes to open.
func OpenSQLiteFile(t testing.TB, file string) (path string, db *sql.DB) {
	path = filepath.Join(t.TempDir(), file)
	return path, openSQLite(t, SQLiteDSN(path))
}

// openSQLite opens dsn with the "sqlite" driver, closed when the test
// ends; it does not connect.
func openSQLite(t testing.TB, dsn string) *sql.DB {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// CheckSQLiteSettings checks what every store's constructor promises of a
// SQLite database (newStore builds a store on db): it refuses a database
// without a busy timeout with an error matching sentinel that says how to
// open it, also when the timeout was set on one connection only (not in
// the DSN); it refuses a DSN that switches the file out of WAL; it
// switches a rollback-journal file to WAL itself; it refuses an in-memory
// database, which cannot be WAL nor shared. It returns a
// database opened as the docs say, for the store's own checks.
func CheckSQLiteSettings(t *testing.T, sentinel error, newStore func(db *sql.DB) error) *sql.DB {
	t.Helper()
	dir := t.TempDir()
	err := newStore(openSQLite(t, "file:"+filepath.Join(dir, "nobusy.db")))
	if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), "busy_timeout is 0 ms") ||
		!strings.Contains(err.Error(), "_pragma=busy_timeout(10000)") {
		t.Errorf("no busy timeout: err = %v, want %v saying busy_timeout is 0 ms and how to open it", err, sentinel)
	}

	forced := openSQLite(t, "file:"+filepath.Join(dir, "forced.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(DELETE)")
	err = newStore(forced)
	if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), "switches the file out of WAL") {
		t.Errorf("DSN forcing a rollback journal: err = %v, want %v saying it switches the file out of WAL", err, sentinel)
	}

	// A busy timeout set on one connection only, not in the DSN: the
	// pool's other connections would fail at once with SQLITE_BUSY.
	oneConn := openSQLite(t, "file:"+filepath.Join(dir, "oneconn.db")+"?_pragma=journal_mode(WAL)")
	if _, err := oneConn.Exec("PRAGMA busy_timeout = 10000"); err != nil {
		t.Fatal(err)
	}
	err = newStore(oneConn)
	if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), "busy_timeout is 0 ms") {
		t.Errorf("busy timeout on one connection only: err = %v, want %v saying busy_timeout is 0 ms", err, sentinel)
	}

	// A file left in rollback-journal mode, opened without a journal_mode.
	path := filepath.Join(dir, "rollback.db")
	setup := openSQLite(t, "file:"+path+"?_pragma=journal_mode(DELETE)")
	if err := setup.Ping(); err != nil {
		t.Fatal(err)
	}
	_ = setup.Close()
	rollback := openSQLite(t, "file:"+path+"?_pragma=busy_timeout(5000)")
	rollback.SetMaxOpenConns(1) // the check must not block on a one-connection pool
	if err := newStore(rollback); err != nil {
		t.Fatalf("rollback journal: %v", err)
	}
	var mode string
	if err := rollback.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q after the constructor, want wal", mode)
	}

	err = newStore(openSQLite(t, "file::memory:?_pragma=busy_timeout(5000)"))
	if !errors.Is(err, sentinel) || !strings.Contains(err.Error(), "cannot be switched to WAL") {
		t.Errorf("in-memory database: err = %v, want %v saying it cannot be switched to WAL", err, sentinel)
	}
	return openSQLite(t, SQLiteDSN(filepath.Join(dir, "ok.db")))
}

// NumberedLikeSQLDB fails unless a store's public dialects pg and lite
// have sqldb's numbers (sqldb.Setup converts by number) and its zero is
// sqldb.Unknown.
func NumberedLikeSQLDB[D ~int](t testing.TB, pg, lite D) {
	t.Helper()
	if sqldb.Dialect(pg) != sqldb.PostgreSQL || sqldb.Dialect(lite) != sqldb.SQLite || D(sqldb.Unknown) != 0 {
		t.Fatalf("Dialect values %d, %d differ from sqldb's %d, %d", pg, lite, sqldb.PostgreSQL, sqldb.SQLite)
	}
}
