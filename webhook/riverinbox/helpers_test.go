package riverinbox

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"
)

const testSecret = "sivo-test-secret"

// The three databases every behaviour is tested on.
type dbKind string

const (
	kindPgx    dbKind = "pgx"    // PostgreSQL through pgx
	kindSQLPG  dbKind = "sql"    // PostgreSQL through database/sql (pgx stdlib)
	kindSQLite dbKind = "sqlite" // SQLite through database/sql (modernc)
)

// sqliteConns is the SQLite pool size the tests use.
var sqliteConns = 8

var allKinds = []dbKind{kindPgx, kindSQLPG, kindSQLite}

// inboxAPI is what every Inbox[TTx] offers, for tests over all databases.
type inboxAPI interface {
	webhook.Inbox
	Migrate(ctx context.Context) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	DeadLetters(ctx context.Context, f Filter) iter.Seq2[DeadLetter, error]
	Retry(ctx context.Context, id int64) error
	Discard(ctx context.Context, id int64) error
	Counts(ctx context.Context) (Counts, error)
}

var schemaSeq atomic.Int64

// testDB is one test's own database space: a PostgreSQL schema holding
// River's tables and the test's tables, or a SQLite file.
type testDB struct {
	kind   dbKind
	dsn    string // PostgreSQL DSN or SQLite DSN
	schema string // "" on SQLite
	pool   *pgxpool.Pool
	sqldb  *sql.DB
}

func newTestDB(t testing.TB) *testDB { return newTestDBKind(t, kindPgx) }

func newTestDBKind(t testing.TB, kind dbKind) *testDB {
	ctx := context.Background()
	d := &testDB{kind: kind}
	if kind == kindSQLite {
		d.dsn = SQLiteDSN(filepath.Join(t.TempDir(), "inbox.db"))
		db, err := sql.Open("sqlite", d.dsn)
		require.NoError(t, err)
		db.SetMaxOpenConns(sqliteConns)
		d.sqldb = db
		t.Cleanup(func() { _ = db.Close() })
	} else {
		d.dsn = sqldbtest.PostgresDSN(t)
		cfg, err := pgxpool.ParseConfig(d.dsn)
		require.NoError(t, err)
		cfg.MaxConns = 40
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		d.pool = pool
		d.schema = fmt.Sprintf("riverinbox_t%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
		_, err = pool.Exec(ctx, "CREATE SCHEMA "+d.schema)
		require.NoError(t, err)
		t.Cleanup(func() {
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, _ = pool.Exec(cctx, "DROP SCHEMA IF EXISTS "+d.schema+" CASCADE")
			pool.Close()
		})
		if kind == kindSQLPG {
			db, err := sql.Open("pgx", d.dsn)
			require.NoError(t, err)
			db.SetMaxOpenConns(40)
			d.sqldb = db
			t.Cleanup(func() { _ = db.Close() })
		}
	}
	require.NoError(t, d.newInbox(t).Migrate(ctx))
	d.exec(t, `CREATE TABLE %[1]sapplied (id TEXT NOT NULL, at BIGINT NOT NULL DEFAULT 0)`)
	d.exec(t, `CREATE TABLE %[1]splain (id TEXT NOT NULL, at BIGINT NOT NULL DEFAULT 0)`)
	return d
}

// prefix is what goes before a table name: "schema." or "".
func (d *testDB) prefix() string {
	if d.schema == "" {
		return ""
	}
	return d.schema + "."
}

var testDollarRe = regexp.MustCompile(`\$[0-9]+`)

// sql formats q (%s or %[1]s is the table prefix) and rewrites $n
// placeholders for SQLite.
func (d *testDB) sql(q string) string {
	q = fmt.Sprintf(q, d.prefix())
	if d.kind == kindSQLite {
		q = testDollarRe.ReplaceAllString(q, "?")
	}
	return q
}

func (d *testDB) execErr(ctx context.Context, q string, args ...any) error {
	if d.pool != nil {
		_, err := d.pool.Exec(ctx, d.sql(q), args...)
		return err
	}
	_, err := d.sqldb.ExecContext(ctx, d.sql(q), args...)
	return err
}

func (d *testDB) exec(t testing.TB, q string, args ...any) {
	t.Helper()
	require.NoError(t, d.execErr(context.Background(), q, args...))
}

func (d *testDB) countErr(q string, args ...any) (int, error) {
	var n int
	if d.pool != nil {
		err := d.pool.QueryRow(context.Background(), d.sql(q), args...).Scan(&n)
		return n, err
	}
	err := d.sqldb.QueryRowContext(context.Background(), d.sql(q), args...).Scan(&n)
	return n, err
}

func (d *testDB) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	n, err := d.countErr(q, args...)
	require.NoError(t, err)
	return n
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func (d *testDB) options(opts []Option) []Option {
	base := []Option{WithPollInterval(50 * time.Millisecond), WithLogger(quietLogger())}
	if d.kind != kindSQLite {
		base = append(base, WithSchema(d.schema))
	}
	return append(base, opts...)
}

// newInbox builds an inbox on the test's database with fast test timings.
func (d *testDB) newInbox(t testing.TB, opts ...Option) inboxAPI {
	in, err := d.newInboxErr(opts...)
	require.NoError(t, err)
	return in
}

func (d *testDB) newInboxErr(opts ...Option) (inboxAPI, error) {
	switch d.kind {
	case kindPgx:
		return NewPgx(d.pool, d.options(opts)...)
	case kindSQLPG:
		return NewSQL(d.sqldb, d.options(opts)...)
	default:
		return NewSQLite(d.sqldb, d.options(opts)...)
	}
}

func startInbox(t testing.TB, in inboxAPI) {
	require.NoError(t, in.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = in.Stop(ctx)
	})
}

// txExec runs q in the job's transaction, whichever the driver's type.
func txExec(ctx context.Context, d *testDB, q string, args ...any) error {
	if tx, ok := Tx[pgx.Tx](ctx); ok {
		_, err := tx.Exec(ctx, d.sql(q), args...)
		return err
	}
	if tx, ok := Tx[*sql.Tx](ctx); ok {
		_, err := tx.ExecContext(ctx, d.sql(q), args...)
		return err
	}
	return fmt.Errorf("no job transaction")
}

// sivoEvent returns a signed-able SIVO call.ended body.
func sivoEvent(t testing.TB, id string) []byte {
	ev, err := sivotest.CallEnded(id, time.Now(), sivo.CallEnded{CallID: "call-" + id, Direction: "inbound", From: "+15550100", To: "+15550199"})
	require.NoError(t, err)
	return ev.Raw
}

// recordingCallbacks writes each processed call.ended into plain (outside
// the job's transaction) and applied (inside it, through Tx). pause, if
// set, is called with the event's id after each write: step 1 after the
// one outside the transaction, step 2 after the one through Tx (before the
// job's transaction commits).
func recordingCallbacks(d *testDB, useTx bool, pause func(id string, step int)) sivo.Callbacks {
	return sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
		if err := d.execErr(ctx, "INSERT INTO %splain (id) VALUES ($1)", ev.ID); err != nil {
			return err
		}
		if pause != nil {
			pause(ev.ID, 1)
		}
		if !useTx {
			return nil
		}
		err := txExec(ctx, d, "INSERT INTO %sapplied (id) VALUES ($1)", ev.ID)
		if pause != nil {
			pause(ev.ID, 2)
		}
		return err
	}}
}

func newSivoHandler(t testing.TB, in webhook.Inbox, cb sivo.Callbacks, opts ...webhook.Option) *sivo.Handler {
	h, err := sivo.NewHandler([]string{testSecret}, cb, append([]webhook.Option{webhook.WithInbox(in)}, opts...)...)
	require.NoError(t, err)
	return h
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// keepAliveClient is an HTTP client for loopback senders.
func keepAliveClient(conns int) *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns}}
}

// eachDB runs f once per database as a subtest.
func eachDB(t *testing.T, f func(t *testing.T, d *testDB)) {
	for _, k := range allKinds {
		t.Run(string(k), func(t *testing.T) { f(t, newTestDBKind(t, k)) })
	}
}
