package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testEnv() map[string]string {
	return map[string]string{"SIVO_WEBHOOK_SECRET": "s1", "SYMBO_WEBHOOK_SECRET": "s2", "CALLSYNC_WEBHOOK_SECRET": "s3",
		"ENGRAMI_TOOL_SECRET": "s4", "SIRO_WEBHOOK_SECRET": "whsec_c2lyb3Rlc3Qtd2ViaG9vay1zZWNyZXQ="}
}

// startBackend runs the backend on a free loopback port until the returned
// stop is called; stop returns run's error.
func startBackend(t *testing.T, env map[string]string) (addr string, stop func() error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr = l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), func(k string) string { return env[k] }, addr)
	}()
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("backend stopped: %v", err)
		default:
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	}, 15*time.Second, 10*time.Millisecond)
	return addr, func() error { cancel(); return <-done }
}

func TestBackendServesAndShutsDown(t *testing.T) {
	addr, stop := startBackend(t, testEnv())

	s, _ := sivotest.NewSender("s1")
	ev, _ := sivotest.NewEvent("evt_1", sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c1"})
	code, err := s.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	resp, err := http.Post("http://"+addr+"/webhooks/symbo", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "unsigned deliveries are refused")
	resp, err = http.Get("http://" + addr + "/symbo/lookup?number=%2B18005551212")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "the contact lookup is not served to anyone")
	dialer, _ := symbotest.NewDialer("s2")
	code, _, err = dialer.Lookup(context.Background(), "http://"+addr+"/symbo/lookup", "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 404, code, "Symbo's signed lookup reaches the CRM")
	require.NoError(t, stop())
}

// Durable mode against the test PostgreSQL, in a schema of its own (the
// search_path in DATABASE_URL): a delivery is stored as a River job before
// the 200, processed by the worker, and a redelivery stores nothing.
func TestBackendDurable(t *testing.T) {
	dsn := os.Getenv("CALLCRM_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CALLCRM_REQUIRE_POSTGRES") != "" {
			t.Fatal("CALLCRM_REQUIRE_POSTGRES is set but CALLCRM_TEST_POSTGRES is empty")
		}
		t.Skip("no PostgreSQL: run `bash -c 'source .ci/postgres && go test ./examples/crm-backend/'` or set CALLCRM_TEST_POSTGRES")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close) // after the schema is dropped
	schema := fmt.Sprintf("crm_backend_t%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	_, err = pool.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	env := testEnv()
	env["DATABASE_URL"] = dsn + sep + "search_path=" + schema
	addr, stop := startBackend(t, env)

	s, _ := sivotest.NewSender("s1")
	ev, _ := sivotest.NewEvent("evt_durable_1", sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c1"})
	code, err := s.Deliver(ctx, "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	jobs := func(state string) int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".river_job WHERE args->>'id' = 'evt_durable_1' AND ($1 = '' OR state::text = $1)", state).Scan(&n))
		return n
	}
	assert.Equal(t, 1, jobs(""), "stored before the 200")
	require.Eventually(t, func() bool { return jobs("completed") == 1 }, 10*time.Second, 20*time.Millisecond, "processed by the worker")
	code, err = s.Deliver(ctx, "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, 1, jobs(""), "a redelivery stores nothing")
	require.NoError(t, stop())
}
