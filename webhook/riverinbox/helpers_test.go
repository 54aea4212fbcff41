package riverinbox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

const testSecret = "sivo-test-secret"

// postgresDSN returns the test server's address. Without one the tests
// skip with instructions, except under CI (.ci/run starts a server and sets
// CALLCRM_REQUIRE_POSTGRES), where they must run.
func postgresDSN(t testing.TB) string {
	dsn := os.Getenv("CALLCRM_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CALLCRM_REQUIRE_POSTGRES") != "" {
			t.Fatal("CALLCRM_REQUIRE_POSTGRES is set but CALLCRM_TEST_POSTGRES is empty")
		}
		t.Skip("no PostgreSQL: run `bash -c 'source .ci/postgres && go test ./webhook/riverinbox/'` or set CALLCRM_TEST_POSTGRES=postgres://user@host:port/db")
	}
	return dsn
}

var schemaSeq atomic.Int64

// testDB is one test's own schema holding River's tables (and the test's
// tables), so parallel packages and runs never see each other's jobs.
type testDB struct {
	dsn    string
	pool   *pgxpool.Pool
	schema string
}

func newTestDB(t testing.TB) *testDB {
	dsn := postgresDSN(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.MaxConns = 40
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	schema := fmt.Sprintf("riverinbox_t%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	_, err = pool.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = pool.Exec(cctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		pool.Close()
	})
	require.NoError(t, Migrate(ctx, pool, WithSchema(schema)))
	_, err = pool.Exec(ctx, fmt.Sprintf(`CREATE TABLE %[1]s.applied (id TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now());
		CREATE TABLE %[1]s.plain (id TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now())`, schema))
	require.NoError(t, err)
	return &testDB{dsn: dsn, pool: pool, schema: schema}
}

func (d *testDB) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, d.pool.QueryRow(context.Background(), fmt.Sprintf(query, d.schema), args...).Scan(&n))
	return n
}

// newInbox builds an inbox in the test's schema with fast test timings,
// stopped at cleanup.
func (d *testDB) newInbox(t testing.TB, opts ...Option) *Inbox {
	in, err := New(d.pool, append([]Option{WithSchema(d.schema), WithPollInterval(50 * time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)...)
	require.NoError(t, err)
	return in
}

func startInbox(t testing.TB, in *Inbox) {
	require.NoError(t, in.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = in.Stop(ctx)
	})
}

// sivoEvent returns a signed-able SIVO call.ended body.
func sivoEvent(t testing.TB, id string) []byte {
	ev, err := sivotest.CallEnded(id, time.Now(), sivo.CallEnded{CallID: "call-" + id, Direction: "inbound", From: "+15550100", To: "+15550199"})
	require.NoError(t, err)
	return ev.Raw
}

// recordingCallbacks writes each processed call.ended into plain (outside
// the job's transaction) and applied (inside it, through Tx).
func recordingCallbacks(pool *pgxpool.Pool, schema string, useTx bool, pause func()) sivo.Callbacks {
	return sivo.Callbacks{CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
		if _, err := pool.Exec(ctx, "INSERT INTO "+schema+".plain (id) VALUES ($1)", ev.ID); err != nil {
			return err
		}
		if pause != nil {
			pause()
		}
		if !useTx {
			return nil
		}
		tx, ok := Tx(ctx)
		if !ok {
			return fmt.Errorf("no job transaction")
		}
		_, err := tx.Exec(ctx, "INSERT INTO "+schema+".applied (id) VALUES ($1)", ev.ID)
		if pause != nil {
			pause()
		}
		return err
	}}
}

func newSivoHandler(t testing.TB, in *Inbox, cb sivo.Callbacks, opts ...webhook.Option) *sivo.Handler {
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
