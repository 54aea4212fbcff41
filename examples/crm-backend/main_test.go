package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callcrm/callcrm-go/internal/sqldb/sqldbtest"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/sivo/sivotest"
	"github.com/callcrm/callcrm-go/symbo/symbotest"
	"github.com/callcrm/callcrm-go/webhook/riverinbox"
	"github.com/callcrm/callcrm-go/webhook/webhooktest"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testEnv() map[string]string {
	return map[string]string{"SIVO_WEBHOOK_SECRET": "s1", "SYMBO_WEBHOOK_SECRET": "s2", "CALLSYNC_WEBHOOK_SECRET": "s3",
		"ENGRAMI_TOOL_SECRET": "s4", "SIRO_WEBHOOK_SECRET": "whsec_c2lyb3Rlc3Qtd2ViaG9vay1zZWNyZXQ=", "METRICS_ADDR": "off"}
}

// startBackend runs the backend on a free loopback port, with its SQLite
// file at dbPath (unless env has DATABASE_URL), until the returned stop is
// called; stop returns run's error. Its log goes to logs (nil: nowhere).
func startBackend(t *testing.T, env map[string]string, dbPath string, logs io.Writer) (addr string, stop func() error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr = l.Addr().String()
	l.Close()
	if logs == nil {
		logs = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, slog.New(slog.NewTextHandler(logs, nil)), func(k string) string { return env[k] }, addr, dbPath)
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
	addr, stop := startBackend(t, testEnv(), filepath.Join(t.TempDir(), "crm.db"), nil)

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
	resp, err = http.Get("http://" + addr + "/riverui/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode, "no River UI on SQLite")
	require.NoError(t, stop())
}

// TestBackendSQLiteSurvivesRestart: with no setup at all the backend keeps
// its state in the SQLite file it creates: a SIVO event processed before a
// restart is answered 200 as a duplicate after it and not processed again,
// and the dedupe, checkpoint and limiter tables are in the file.
func TestBackendSQLiteSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm-backend.db")
	s, _ := sivotest.NewSender("s1")
	ev, _ := sivotest.NewEvent("evt_restart_1", sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c_restart"})
	var logs webhooktest.LogBuffer
	processed := func() int { return strings.Count(logs.String(), "call=c_restart") }

	addr, stop := startBackend(t, testEnv(), path, &logs)
	code, err := s.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 200, code, "stored in the SQLite inbox, then acknowledged")
	require.Eventually(t, func() bool { return processed() == 1 }, 10*time.Second, 5*time.Millisecond, "processed by the inbox's worker")
	require.NoError(t, stop())
	assert.Contains(t, logs.String(), "database=SQLite")

	addr, stop = startBackend(t, testEnv(), path, &logs)
	code, err = s.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 200, code, "a redelivery after the restart is a duplicate")
	require.NoError(t, stop())
	assert.Equal(t, 1, processed(), "and is not processed again")

	db, err := sql.Open("sqlite", sqliteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM river_job WHERE state = 'completed' AND json_extract(args, '$.id') = 'evt_restart_1'").Scan(&n))
	assert.Equal(t, 1, n, "the inbox's job is in the file, completed once")
	for _, table := range []string{"webhook_dedupe", "siro_bulk_checkpoint", "siro_rate_limit"} {
		require.NoError(t, db.QueryRow("SELECT count(*) FROM sqlite_master WHERE name = $1", table).Scan(&n))
		assert.Equal(t, 1, n, table)
	}
}

// Durable mode against the test PostgreSQL, in a schema of its own (the
// search_path in DATABASE_URL): a delivery is stored as a River job before
// the 200, processed by the worker, and a redelivery stores nothing.
func TestBackendDurable(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
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
	env["RIVER_UI_TOKEN"] = "ui-token-for-tests"
	env["INBOX_SCHEMA"] = schema + "_inbox" // not the shared callcrm_inbox: no other process's workers take these jobs
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+"_inbox CASCADE") })
	addr, stop := startBackend(t, env, filepath.Join(t.TempDir(), "unused.db"), nil)

	s, _ := sivotest.NewSender("s1")
	id := fmt.Sprintf("evt_durable_%d", time.Now().UnixNano())
	ev, _ := sivotest.NewEvent(id, sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c1"})
	code, err := s.Deliver(ctx, "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	jobs := func(state string) int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+"_inbox.river_job WHERE args->>'id' = $2 AND ($1 = '' OR state::text = $1)", state, id).Scan(&n))
		return n
	}
	assert.Equal(t, 1, jobs(""), "stored before the 200")
	require.Eventually(t, func() bool { return jobs("completed") == 1 }, 10*time.Second, 20*time.Millisecond, "processed by the worker")
	var rows int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".crm_activity WHERE kind = 'call' AND ref = 'c1'").Scan(&rows))
	assert.Equal(t, 1, rows, "the CRM write, through the job's pgx transaction")
	code, err = s.Deliver(ctx, "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	assert.Equal(t, 1, jobs(""), "a redelivery stores nothing")
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".webhook_dedupe").Scan(&n))
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM "+schema+".siro_bulk_checkpoint").Scan(&n),
		"the Siro sync state is in PostgreSQL too")

	// River UI: 401 without the token, the jobs with it.
	get := func(path, auth string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, _ = get("/riverui/", "")
	assert.Equal(t, 401, code, "River UI needs the token")
	code, _ = get("/riverui/api/jobs?state=completed", "Bearer wrong")
	assert.Equal(t, 401, code)
	code, _ = get("/riverui/", "Bearer ui-token-for-tests")
	assert.Equal(t, 200, code, "the UI's page")
	code, body := get("/riverui/api/jobs?state=completed", "Bearer ui-token-for-tests")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, riverinbox.Kind, "the completed delivery job is listed")
	require.NoError(t, stop())
}

// TestBackendMetrics: the Prometheus endpoint (loopback, METRICS_ADDR)
// counts a delivery by provider and outcome and a refused forgery by
// reason, and shows no secret.
func TestBackendMetrics(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	maddr := l.Addr().String()
	l.Close()
	env := testEnv()
	env["METRICS_ADDR"] = maddr
	addr, stop := startBackend(t, env, filepath.Join(t.TempDir(), "crm.db"), nil)
	defer func() { require.NoError(t, stop()) }()

	s, _ := sivotest.NewSender("s1")
	ev, _ := sivotest.NewEvent("evt_metrics_1", sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c_m"})
	code, err := s.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 200, code)
	forger, _ := sivotest.NewSender("not-the-secret")
	code, err = forger.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 401, code)

	scrape := func() string {
		resp, err := http.Get("http://" + maddr + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	var body string
	require.Eventually(t, func() bool {
		body = scrape()
		return strings.Contains(body, `callcrm_outcome="processed"`) && strings.Contains(body, "callcrm_webhook_verification_failures")
	}, 10*time.Second, 10*time.Millisecond, "the delivery and the forgery are counted")
	assert.Contains(t, body, `callcrm_reason="signature"`)
	assert.Contains(t, body, `callcrm_provider="sivo"`)
	for _, secret := range testEnv() {
		if len(secret) > 3 {
			assert.NotContains(t, body, secret)
		}
	}
	assert.NotContains(t, body, "evt_metrics_1", "no delivery id as a label")
}

// TestBackendJobRunAgainIsNotProcessedTwice: a delivery's job that runs
// again after it was processed (River's rescuer after a crash between the
// callback and the job's completion, a paused replica, a retry from River
// UI) does not process the delivery a second time: the backend's CRM write
// goes through the job's transaction (riverinbox.Tx), committed with the
// job's completion. Before, the callbacks wrote outside it, and a SIGKILL
// after a burst of 200 deliveries ran 21 of them twice after the restart.
func TestBackendJobRunAgainIsNotProcessedTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm-backend.db")
	var logs webhooktest.LogBuffer
	processed := func() int { return strings.Count(logs.String(), "call=c_again") }
	addr, stop := startBackend(t, testEnv(), path, &logs)
	defer func() { require.NoError(t, stop()) }()
	db, err := sql.Open("sqlite", sqliteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	job := func() (id int64, state string, attempt int) {
		require.NoError(t, db.QueryRow("SELECT id, state, attempt FROM river_job WHERE json_extract(args, '$.id') = 'evt_again_1'").Scan(&id, &state, &attempt))
		return
	}

	s, _ := sivotest.NewSender("s1")
	ev, _ := sivotest.NewEvent("evt_again_1", sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c_again"})
	code, err := s.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	require.Equal(t, 200, code)
	require.Eventually(t, func() bool { _, state, _ := job(); return state == "completed" && processed() == 1 }, 10*time.Second, 5*time.Millisecond)

	// What the rescuer does to a job whose completion was lost.
	id, _, _ := job()
	_, err = db.Exec("UPDATE river_job SET state = 'available', finalized_at = NULL WHERE id = $1", id)
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, state, attempt := job(); return state == "completed" && attempt == 2 }, 10*time.Second, 5*time.Millisecond,
		"the job ran again")
	assert.Equal(t, 1, processed(), "the delivery was not processed again")
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM crm_activity WHERE ref = 'c_again'").Scan(&n))
	assert.Equal(t, 1, n, "the CRM write landed once")
}

// TestRiverUIWorksInABrowser: a browser cannot add "Authorization: Bearer"
// to a page it navigates to, nor to the UI's own script and API requests;
// it asks for and resends HTTP Basic credentials. So the UI's guard
// challenges with Basic and takes the token as the password (any user
// name), as well as the Bearer header for scripts.
func TestRiverUIWorksInABrowser(t *testing.T) {
	ui := requireBearer("ui-token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "the UI") }))
	serve := func(set func(r *http.Request)) *http.Response {
		r, _ := http.NewRequest("GET", "/riverui/", nil)
		set(r)
		w := httptest.NewRecorder()
		ui.ServeHTTP(w, r)
		return w.Result()
	}
	resp := serve(func(r *http.Request) {})
	assert.Equal(t, 401, resp.StatusCode)
	assert.Contains(t, resp.Header.Values("WWW-Authenticate"), `Basic realm="river-ui", charset="UTF-8"`, "the browser asks for credentials")
	assert.Equal(t, 200, serve(func(r *http.Request) { r.SetBasicAuth("ops", "ui-token") }).StatusCode, "the token as the password")
	assert.Equal(t, 200, serve(func(r *http.Request) { r.Header.Set("Authorization", "Bearer ui-token") }).StatusCode)
	for _, bad := range []func(r *http.Request){
		func(r *http.Request) { r.SetBasicAuth("ops", "wrong") },
		func(r *http.Request) { r.SetBasicAuth("ui-token", "") },
		func(r *http.Request) { r.Header.Set("Authorization", "Bearer wrong") },
		func(r *http.Request) { r.Header.Set("Authorization", "Basic !!!") },
	} {
		assert.Equal(t, 401, serve(bad).StatusCode)
	}
}

// TestEngramiToolUnknownContactIs404: the contact lookup tool answers an
// unknown phone number with a 404 "not_found", not a 500 "tool_error"
// logged at error level for an ordinary answer (which pages whoever
// watches the error rate, and tells Engrami's agent the tool is broken).
func TestEngramiToolUnknownContactIs404(t *testing.T) {
	var logs webhooktest.LogBuffer
	addr, stop := startBackend(t, testEnv(), filepath.Join(t.TempDir(), "crm.db"), &logs)
	defer func() { require.NoError(t, stop()) }()
	req, _ := http.NewRequest("POST", "http://"+addr+"/tools/lookup-contact", strings.NewReader(`{"phone":"+18005551212"}`))
	req.Header.Set("Authorization", "Bearer s4")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode, string(b))
	assert.Contains(t, string(b), `"not_found"`)
	assert.NotContains(t, logs.String(), "level=ERROR")
}

// TestBackendCleansTheDedupeTable: expired rows of the dedupe table are
// deleted (sqldedupe's Cleanup, at start and then hourly); before, nothing
// ever called Cleanup, so the table grew by a row per delivery for as long
// as the backend ran.
func TestBackendCleansTheDedupeTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm-backend.db")
	_, stop := startBackend(t, testEnv(), path, nil)
	require.NoError(t, stop())
	db, err := sql.Open("sqlite", sqliteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("INSERT INTO webhook_dedupe (key, state, token, expires_at) VALUES ('sivo/default/d:evt_old', 1, '', 1)")
	require.NoError(t, err)

	_, stop = startBackend(t, testEnv(), path, nil)
	defer func() { require.NoError(t, stop()) }()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, db.QueryRow("SELECT count(*) FROM webhook_dedupe WHERE key = 'sivo/default/d:evt_old'").Scan(&n))
		return n == 0
	}, 10*time.Second, 10*time.Millisecond, "the expired row is deleted")
}

// TestBackendsSharingADatabaseKeepTheirInboxes: two deployments on one
// PostgreSQL database, each in its own schema (search_path), each with its
// own INBOX_SCHEMA: each one's deliveries are stored and processed by its
// own workers. The inbox's schema is not the search_path's: without
// INBOX_SCHEMA both would share riverinbox.DefaultSchema, and either's
// workers would take the other's deliveries and write them into its own
// tables.
func TestBackendsSharingADatabaseKeepTheirInboxes(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	envs, crm := map[string]map[string]string{}, map[string]string{}
	for _, name := range []string{"a", "b"} {
		schema := fmt.Sprintf("crm_backend_%s%d_%d", name, os.Getpid(), time.Now().UnixNano()%1e9)
		for _, s := range []string{schema, schema + "_inbox"} {
			_, err = pool.Exec(ctx, "CREATE SCHEMA "+s)
			require.NoError(t, err)
			t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA "+s+" CASCADE") })
		}
		env := testEnv()
		env["DATABASE_URL"] = dsn + sep + "search_path=" + schema
		env["INBOX_SCHEMA"] = schema + "_inbox"
		envs[name], crm[name] = env, schema
	}
	_, stopA := startBackend(t, envs["a"], filepath.Join(t.TempDir(), "unused.db"), nil)
	defer func() { require.NoError(t, stopA()) }()
	addrB, stopB := startBackend(t, envs["b"], filepath.Join(t.TempDir(), "unused.db"), nil)
	defer func() { require.NoError(t, stopB()) }()

	s, _ := sivotest.NewSender("s1")
	const n = 6
	for i := range n {
		ev, _ := sivotest.NewEvent(fmt.Sprintf("evt_shared_%d", i), sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: fmt.Sprintf("c_shared_%d", i)})
		code, err := s.Deliver(ctx, "http://"+addrB+"/webhooks/sivo", ev.Raw)
		require.NoError(t, err)
		require.Equal(t, 200, code)
	}
	count := func(q string) int {
		var c int
		require.NoError(t, pool.QueryRow(ctx, q).Scan(&c))
		return c
	}
	require.Eventually(t, func() bool {
		return count("SELECT count(*) FROM "+crm["a"]+".crm_activity")+count("SELECT count(*) FROM "+crm["b"]+".crm_activity") == n
	}, 10*time.Second, 20*time.Millisecond, "every delivery processed")
	assert.Equal(t, n, count("SELECT count(*) FROM "+crm["b"]+".crm_activity"), "by B, into B's tables")
	assert.Equal(t, n, count("SELECT count(*) FROM "+envs["b"]["INBOX_SCHEMA"]+".river_job"), "stored in B's inbox")
	assert.Equal(t, 0, count("SELECT count(*) FROM "+envs["a"]["INBOX_SCHEMA"]+".river_job"), "A's inbox holds none of them")
}

// TestDeadLettersFromTheCommandLine: "crm-backend dead-letters" lists the
// inbox's dead letters, retries one and discards one, on the SQLite file
// (where there is no River UI) as on PostgreSQL.
func TestDeadLettersFromTheCommandLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm-backend.db")
	db, err := sql.Open("sqlite", sqliteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	job := func(delivery string) (id int64, state string) {
		require.NoError(t, db.QueryRow("SELECT id, state FROM river_job WHERE json_extract(args, '$.id') = $1", delivery).Scan(&id, &state))
		return
	}
	// Two deliveries whose stored bodies no longer parse: dead letters.
	addr, stop := startBackend(t, testEnv(), path, nil)
	s, _ := sivotest.NewSender("s1")
	for _, id := range []string{"evt_dead_1", "evt_dead_2"} {
		ev, _ := sivotest.NewEvent(id, sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c_" + id})
		code, err := s.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
		require.NoError(t, err)
		require.Equal(t, 200, code)
		require.Eventually(t, func() bool { _, state := job(id); return state == "completed" }, 10*time.Second, 5*time.Millisecond)
		_, err = db.Exec(`UPDATE river_job SET args = jsonb_set(args, '$.raw', 'bm90IGpzb24='), state = 'available', attempt = 0, finalized_at = NULL
			WHERE json_extract(args, '$.id') = $1`, id)
		require.NoError(t, err)
		require.Eventually(t, func() bool { _, state := job(id); return state == "cancelled" }, 10*time.Second, 5*time.Millisecond)
	}
	require.NoError(t, stop())

	cmd := func(args ...string) (string, error) {
		var out strings.Builder
		err := deadLetters(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), func(k string) string { return testEnv()[k] }, path, args, &out)
		return out.String(), err
	}
	list, err := cmd("list")
	require.NoError(t, err)
	id1, _ := job("evt_dead_1")
	id2, _ := job("evt_dead_2")
	assert.Contains(t, list, fmt.Sprintf("%d ", id1))
	assert.Contains(t, list, "evt_dead_1")
	assert.Contains(t, list, "evt_dead_2")
	assert.Contains(t, list, "malformed delivery", "with its last error")

	_, err = cmd("retry", fmt.Sprint(id1))
	require.NoError(t, err)
	_, state := job("evt_dead_1")
	assert.Equal(t, "available", state, "retried: a worker takes it at the next start")
	_, err = cmd("discard", fmt.Sprint(id2))
	require.NoError(t, err)
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM river_job WHERE id = $1", id2).Scan(&n))
	assert.Equal(t, 0, n, "discarded")
	list, err = cmd()
	require.NoError(t, err)
	assert.NotContains(t, list, "evt_dead")

	_, err = cmd("retry", fmt.Sprint(id1))
	assert.ErrorIs(t, err, riverinbox.ErrNotDeadLetter)
	_, err = cmd("retry", "x")
	assert.Error(t, err)
	_, err = cmd("purge")
	assert.ErrorContains(t, err, "usage")
	err = deadLetters(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), func(k string) string { return testEnv()[k] },
		filepath.Join(t.TempDir(), "elsewhere.db"), nil, io.Discard)
	assert.ErrorIs(t, err, os.ErrNotExist, "not an empty list from a new file")
}

// TestRiverUIRefusesCrossSiteRequests: a browser resends the UI's Basic
// credentials on any request to it, a cross-site form's too, and River
// UI's API takes a text/plain body (no CORS preflight): without a check, a
// page the operator visits could delete or retry jobs. Cross-origin
// browser requests that change something are refused (403).
func TestRiverUIRefusesCrossSiteRequests(t *testing.T) {
	ui := requireBearer("ui-token", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "done") }))
	post := func(set func(r *http.Request)) int {
		r := httptest.NewRequest("POST", "http://crm.example.com/riverui/api/jobs/delete", strings.NewReader(`{"ids":["1"]}`))
		r.Header.Set("Content-Type", "text/plain")
		r.SetBasicAuth("ops", "ui-token")
		set(r)
		w := httptest.NewRecorder()
		ui.ServeHTTP(w, r)
		return w.Code
	}
	assert.Equal(t, 403, post(func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }))
	assert.Equal(t, 403, post(func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }))
	assert.Equal(t, 200, post(func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-origin") }), "the UI's own requests")
	assert.Equal(t, 200, post(func(r *http.Request) {}), "a script (no browser headers)")
}

// TestSecretRotation: each vendor's secret variable takes several secrets
// separated by spaces, so the README's rotation runbook (new next to old,
// switch at the vendor, then drop the old) works without refusing a
// delivery; a trailing newline (a secret read from a file) is not part of
// the secret.
func TestSecretRotation(t *testing.T) {
	env := testEnv()
	env["SIVO_WEBHOOK_SECRET"] = "s1-new s1"
	env["SYMBO_WEBHOOK_SECRET"] = "s2\n"
	env["ENGRAMI_TOOL_SECRET"] = "s4-new s4"
	addr, stop := startBackend(t, env, filepath.Join(t.TempDir(), "crm.db"), nil)
	defer func() { require.NoError(t, stop()) }()

	for i, secret := range []string{"s1", "s1-new"} {
		s, _ := sivotest.NewSender(secret)
		ev, _ := sivotest.NewEvent(fmt.Sprintf("evt_rot_%d", i), sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c_rot"})
		code, err := s.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
		require.NoError(t, err)
		assert.Equal(t, 200, code, "signed with %q", secret)
	}
	forger, _ := sivotest.NewSender("s1-new s1")
	ev, _ := sivotest.NewEvent("evt_rot_forged", sivo.EventCallEnded, time.Now(), sivo.CallEnded{CallID: "c_rot"})
	code, err := forger.Deliver(context.Background(), "http://"+addr+"/webhooks/sivo", ev.Raw)
	require.NoError(t, err)
	assert.Equal(t, 401, code, "the variable's whole value is no secret")

	dialer, _ := symbotest.NewDialer("s2")
	code, _, err = dialer.Lookup(context.Background(), "http://"+addr+"/symbo/lookup", "+18005551212")
	require.NoError(t, err)
	assert.Equal(t, 404, code, "the lookup verifies with the secret without its newline")

	for _, token := range []string{"s4", "s4-new"} {
		req, _ := http.NewRequest("POST", "http://"+addr+"/tools/lookup-contact", strings.NewReader(`{"phone":"+18005551212"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 404, resp.StatusCode, "the Engrami tool takes %q", token)
	}
}
