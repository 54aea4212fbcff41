// Package sqldb holds what the SQL stores (webhook/sqldedupe,
// siro/sirosql) share: telling PostgreSQL from SQLite by the driver behind
// a *sql.DB, and checking that a SQLite database is set up for several
// connections and processes writing at once (WAL, a busy timeout).
// It uses database/sql only and imports no driver.
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/callcrm/callcrm-go/internal/opterr"
)

// Dialect is the SQL database behind a *sql.DB.
type Dialect int

// The dialects the stores speak.
const (
	Unknown Dialect = iota
	PostgreSQL
	SQLite
)

// String names the dialect.
func (d Dialect) String() string {
	switch d {
	case PostgreSQL:
		return "PostgreSQL"
	case SQLite:
		return "SQLite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// Detect tells the dialect from the package of db's driver: pgx's stdlib
// and lib/pq are PostgreSQL; modernc.org/sqlite, mattn/go-sqlite3 and
// ncruces/go-sqlite3 are SQLite. A driver wrapped by another (tracing
// wrappers) is Unknown: the caller asks for an explicit option then. It
// does not connect.
func Detect(db *sql.DB) Dialect {
	drv := db.Driver()
	if drv == nil {
		return Unknown
	}
	t := reflect.TypeOf(drv)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return dialectOf(t.PkgPath())
}

func dialectOf(pkg string) Dialect {
	switch {
	case strings.Contains(pkg, "sqlite"):
		return SQLite
	case strings.HasPrefix(pkg, "github.com/jackc/pgx/"), pkg == "github.com/lib/pq":
		return PostgreSQL
	}
	return Unknown
}

// MinBusyTimeoutMillis is the shortest SQLite busy timeout the stores
// accept: a writer waits up to this long for another connection's or
// process's write to finish instead of failing at once with SQLITE_BUSY.
const MinBusyTimeoutMillis = 1000

// SQLiteDSNHint shows how to open a SQLite database as the stores need it.
const SQLiteDSNHint = `open it with the settings in the DSN, so every connection has them: ` +
	`modernc.org/sqlite "file:crm.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate", ` +
	`mattn/go-sqlite3 "file:crm.db?_busy_timeout=10000&_journal_mode=WAL&_txlock=immediate"`

// CheckSQLite checks db: journal_mode must be WAL (it switches a file
// database to WAL when it is not; WAL is a property of the file, kept
// across connections and restarts) so readers never block the writer, and
// busy_timeout must be at least MinBusyTimeoutMillis (a per-connection
// setting, which only the DSN can give every connection) so a write waits
// for another process's instead of failing. Both are read on the pooled
// connections it gets until one it opened itself, so a busy timeout set
// with an Exec on a single connection does not pass for the DSN's, nor
// does a DSN that switches the file back to a rollback journal. The error
// says what is wrong and how to open the database instead.
func CheckSQLite(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting to SQLite: %w", err)
	}
	defer conn.Close()
	if err := checkJournal(ctx, conn); err != nil {
		return err
	}
	return checkBusyTimeouts(ctx, db, conn)
}

// checkJournal checks (and sets) WAL on conn.
func checkJournal(ctx context.Context, conn *sql.Conn) error {
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("reading SQLite journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
			return fmt.Errorf("setting SQLite journal_mode=WAL: %w", err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("SQLite journal_mode is %q and cannot be switched to WAL "+
				"(an in-memory database cannot: use a file, shared by every connection); %s", mode, SQLiteDSNHint)
		}
	}
	return nil
}

// checkBusyTimeouts checks the busy timeout of first (a connection of db)
// and of every other connection it takes from db until one is new (a
// connection opened with the DSN's settings alone). When the pool is at
// its MaxOpenConns, one connection it holds is closed to make room; it
// stops without blocking when others hold them all.
func checkBusyTimeouts(ctx context.Context, db *sql.DB, first *sql.Conn) error {
	if err := checkBusyTimeout(ctx, first); err != nil {
		return err
	}
	held := []*sql.Conn{first}
	defer func() {
		for _, c := range held {
			_ = c.Close() // first a second time: a no-op
		}
	}()
	for range 64 { // a bound, should other goroutines churn the pool
		st := db.Stats()
		if st.MaxOpenConnections > 0 && st.InUse >= st.MaxOpenConnections {
			if len(held) == 0 {
				return nil // others hold every connection
			}
			// driver.ErrBadConn makes the pool close it.
			last := held[len(held)-1]
			_ = last.Raw(func(any) error { return driver.ErrBadConn })
			_ = last.Close()
			held = held[:len(held)-1]
			st = db.Stats()
		}
		c, err := db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("connecting to SQLite: %w", err)
		}
		held = append(held, c)
		if err := checkBusyTimeout(ctx, c); err != nil {
			return err
		}
		// WAL belongs to the file, set above: a connection that is not in
		// it was opened with a DSN that switches the file back.
		var mode string
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return fmt.Errorf("reading SQLite journal_mode: %w", err)
		}
		if !strings.EqualFold(mode, "wal") {
			return fmt.Errorf("SQLite journal_mode is %q on a new connection: the DSN switches the file out of WAL; %s", mode, SQLiteDSNHint)
		}
		if db.Stats().OpenConnections > st.OpenConnections {
			return nil // a new connection has it: the DSN gives it
		}
	}
	return nil
}

func checkBusyTimeout(ctx context.Context, conn *sql.Conn) error {
	var ms int64
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
		return fmt.Errorf("reading SQLite busy_timeout: %w", err)
	}
	if ms < MinBusyTimeoutMillis {
		return fmt.Errorf("SQLite busy_timeout is %d ms, below %d ms: a write would fail at once while another "+
			"connection or process writes; %s", ms, MinBusyTimeoutMillis, SQLiteDSNHint)
	}
	return nil
}

// Resolve returns the dialect a store runs on: given when it is not
// Unknown (the store's WithDialect), else what Detect finds; a SQLite
// database is then checked with CheckSQLite (for at most 30 s). pkg is the
// store's package, for the error naming WithDialect when the driver tells
// nothing. The stores number their public Dialect like this one.
func Resolve(db *sql.DB, given Dialect, pkg string) (Dialect, error) {
	d := given
	if d == Unknown {
		d = Detect(db)
	}
	switch d {
	case PostgreSQL:
		return d, nil
	case SQLite:
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return d, CheckSQLite(ctx, db)
	}
	return Unknown, fmt.Errorf("cannot tell the database from driver %T: pass WithDialect(%s.PostgreSQL) or WithDialect(%s.SQLite)", db.Driver(), pkg, pkg)
}

var tableRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)

// ValidTable tells whether name is a table name the stores accept: an
// identifier of letters, digits and _, optionally schema-qualified, so it
// is safe to write into a statement.
func ValidTable(name string) bool { return tableRE.MatchString(name) }

// CheckTable is nil when ValidTable accepts name, else the error of
// package pkg's WithTable naming it, matching sentinel.
func CheckTable(pkg string, sentinel error, name string) error {
	if !ValidTable(name) {
		return opterr.New(pkg, "WithTable", sentinel, "table name %q must be [schema.]identifier of letters, digits and _", name)
	}
	return nil
}

// TableOption is a store's WithTable: it sets the table name with set when
// ValidTable accepts it, else fails with CheckTable's error.
func TableOption[S any](pkg string, sentinel error, name string, set func(*S)) func(*S) error {
	return func(s *S) error {
		if err := CheckTable(pkg, sentinel, name); err != nil {
			return err
		}
		set(s)
		return nil
	}
}

// DialectOption is a store's WithDialect (its Dialect numbered like this
// package's): it sets d with set when d is PostgreSQL or SQLite, else
// fails matching sentinel.
func DialectOption[S any, D ~int](pkg string, sentinel error, d D, set func(*S)) func(*S) error {
	return func(s *S) error {
		if k := Dialect(d); k != PostgreSQL && k != SQLite {
			return opterr.New(pkg, "WithDialect", sentinel, "dialect %v must be PostgreSQL or SQLite", k)
		}
		set(s)
		return nil
	}
}

// Setup is the common part of a store's constructor (where, in package
// pkg): db must not be nil, opts are applied to c (a nil option fails
// naming its index), then *d, which WithDialect may have set, is resolved
// with Resolve. Every error matches sentinel.
func Setup[C any, O ~func(*C) error, D ~int](pkg, where string, sentinel error, db *sql.DB, c *C, opts []O, d *D) error {
	if db == nil {
		return opterr.New(pkg, where, sentinel, "db is nil")
	}
	for i, o := range opts {
		if o == nil {
			return opterr.New(pkg, where, sentinel, "option %d is nil", i)
		}
		if err := o(c); err != nil {
			return err
		}
	}
	got, err := Resolve(db, Dialect(*d), pkg)
	if err != nil {
		return opterr.New(pkg, where, sentinel, "%v", err)
	}
	*d = D(got)
	return nil
}

// CreateTable is a store's CreateTable: it runs the statements ddl (the
// store's exported DDL function) returns for table on db; an error of ddl
// is returned as it is, one of the database names pkg and the table.
func CreateTable(ctx context.Context, db *sql.DB, pkg, table string, ddl func(table string) ([]string, error)) error {
	stmts, err := ddl(table)
	if err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: creating %s: %w", pkg, table, err)
		}
	}
	return nil
}
