// Command crm-backend is the skeleton of a CRM backend wired to every
// vendor: one http.Server with each vendor's handler on a ServeMux, secrets
// from the environment, structured logs, graceful shutdown that lets
// in-flight deliveries finish, and a periodic Siro sync job.
//
//	SIRO_ORG_TOKEN=... SIRO_WEBHOOK_SECRET=whsec_... SYMBO_WEBHOOK_SECRET=... \
//	CALLSYNC_WEBHOOK_SECRET=... SIVO_WEBHOOK_SECRET=... ENGRAMI_TOOL_SECRET=... \
//	go run .
//
// (from examples/crm-backend, a module of its own). A vendor whose secret
// is not set is simply not mounted; one variable may hold several secrets
// separated by spaces (during a rotation, "new old": both verify).
//
// It is durable with zero setup: every receiver is in enqueue mode on the
// River inbox (webhook/riverinbox: each delivery committed as a job before
// the vendor gets its 2xx, then processed by the workers), and the inbox,
// the dedupe store (webhook/sqldedupe), the Siro sync checkpoint and rate
// limiter (siro/sirosql) live in a SQLite file it creates (-db, default
// crm-backend.db; pure Go, no cgo), with the CRM's own table
// (crm_activity), which the callbacks write through the delivery's
// transaction (riverinbox.Tx). So neither a crash nor a restart loses an
// acknowledged delivery, writes one twice or restarts a sync from
// scratch. SQLite is one machine: run replicas on PostgreSQL instead.
//
// DATABASE_URL=postgres://... moves everything to PostgreSQL, for
// replicas (the workers of any replica take any delivery; the inbox is in
// the schema INBOX_SCHEMA, default callcrm_inbox, whatever DATABASE_URL's
// search_path: give each deployment sharing a database its own), and serves
// River UI at /riverui/ when RIVER_UI_TOKEN is set (requests need
// "Authorization: Bearer $RIVER_UI_TOKEN", or, from a browser, HTTP Basic
// with the token as the password):
//
//	DATABASE_URL=postgres://crm@db/crm RIVER_UI_TOKEN=... SIVO_WEBHOOK_SECRET=... go run .
//
// Dead letters (deliveries that failed every attempt, or whose stored
// body does not parse), on either database:
//
//	go run . dead-letters                # list them
//	go run . dead-letters retry JOB_ID   # run one again, attempts reset
//	go run . dead-letters discard JOB_ID # delete one
//
// Telemetry (webhook/otelcallcrm): Prometheus metrics on METRICS_ADDR
// (default 127.0.0.1:9464, loopback only; "off" disables) at /metrics, and
// traces of every delivery, from the request through the inbox job to the
// callback, printed to stdout with OTEL_TRACES=stdout or sent to an OTLP
// collector when OTEL_EXPORTER_OTLP_ENDPOINT is set.
package main

import (
	"cmp"
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirosql"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/otelcallcrm"
	"github.com/callcrm/callcrm-go/webhook/riverinbox"
	"github.com/callcrm/callcrm-go/webhook/sqldedupe"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	_ "modernc.org/sqlite" // the SQLite driver, pure Go
	"riverqueue.com/riverui"
)

func main() {
	dbPath := flag.String("db", "crm-backend.db", "SQLite file for the dedupe store and sync state (created if missing; ignored when DATABASE_URL is set)")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if flag.Arg(0) == "dead-letters" {
		// go run . dead-letters [list | retry JOB_ID | discard JOB_ID]
		if err := deadLetters(ctx, log, os.Getenv, *dbPath, flag.Args()[1:], os.Stdout); err != nil {
			log.Error("dead-letters", "error", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, log, os.Getenv, envOr("ADDR", ":8080"), *dbPath); err != nil {
		log.Error("crm-backend stopped", "error", err)
		os.Exit(1)
	}
}

// deadLetters lists the inbox's dead letters (deliveries whose callback
// failed every attempt, or whose stored body does not parse), retries one
// once its cause is fixed, or discards one, on the same database as the
// server (the -db file or DATABASE_URL), while it runs or not. Retry is
// riverinbox's: it resets the attempts, and resolves a dead letter the
// vendor has since resent instead of failing on it.
func deadLetters(ctx context.Context, log *slog.Logger, getenv func(string) string, dbPath string, args []string, out io.Writer) error {
	var id int64
	switch {
	case len(args) == 0 || len(args) == 1 && args[0] == "list":
	case len(args) == 2 && (args[0] == "retry" || args[0] == "discard"):
		var err error
		if id, err = strconv.ParseInt(args[1], 10, 64); err != nil {
			return fmt.Errorf("%s: job id %q: %w", args[0], args[1], err)
		}
	default:
		return fmt.Errorf("usage: crm-backend [-db file] dead-letters [list | retry JOB_ID | discard JOB_ID], not %q", args)
	}
	if getenv("DATABASE_URL") == "" {
		// Not a new, empty file: the server's (-db, as it was started).
		if _, err := os.Stat(dbPath); err != nil {
			return fmt.Errorf("no SQLite file to read the dead letters from (-db the server's, or DATABASE_URL): %w", err)
		}
	}
	st, err := openStores(ctx, log, getenv, dbPath)
	if err != nil {
		return err
	}
	defer st.close()
	defer st.tel.Shutdown(context.WithoutCancel(ctx))
	switch {
	case len(args) == 2 && args[0] == "retry":
		return st.inbox.Retry(ctx, id)
	case len(args) == 2:
		return st.inbox.Discard(ctx, id)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tPROVIDER\tRECEIVER\tTENANT\tDELIVERY\tTYPE\tSTATE\tATTEMPTS\tFAILED\tLAST ERROR")
	for d, err := range st.inbox.DeadLetters(ctx, riverinbox.Filter{}) {
		if err != nil {
			return err
		}
		last := ""
		if len(d.Errors) > 0 {
			last = d.Errors[len(d.Errors)-1]
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.JobID, d.Provider, d.Receiver, d.Tenant, d.ID, d.Type, d.State,
			d.Attempts, d.FailedAt.UTC().Format(time.RFC3339), strings.ReplaceAll(last, "\n", " "))
	}
	return tw.Flush()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// crm stands for your own storage: the crm_activity table, in the same
// database as the inbox, written through the delivery's transaction.
type crm struct{ log *slog.Logger }

// crmDDL creates the example's CRM table (your migrations, in a real
// backend).
const crmDDL = `CREATE TABLE IF NOT EXISTS crm_activity (kind TEXT NOT NULL, source TEXT NOT NULL, ref TEXT NOT NULL)`

// save writes a row through the transaction of the delivery being
// processed (riverinbox.Tx: *sql.Tx on SQLite, pgx.Tx on PostgreSQL): it
// commits together with the delivery's "processed" row and its job's
// completion, so a crash, a rescued job or a retry from River UI never
// writes it twice. A write anywhere else (an HTTP API, another database)
// is at least once: key it on the delivery's id.
func (c crm) save(ctx context.Context, kind, source, ref string) error {
	const q = `INSERT INTO crm_activity (kind, source, ref) VALUES ($1, $2, $3)`
	if tx, ok := riverinbox.Tx[*sql.Tx](ctx); ok {
		_, err := tx.ExecContext(ctx, q, kind, source, ref)
		return err
	}
	if tx, ok := riverinbox.Tx[pgx.Tx](ctx); ok {
		_, err := tx.Exec(ctx, q, kind, source, ref)
		return err
	}
	return errors.New("crm: not running on the River inbox's transaction")
}

func (c crm) writeBack(ctx context.Context, r *siro.ReadyRecording) error {
	if err := c.save(ctx, "recording", "siro", r.Event.RecordingID); err != nil {
		return err
	}
	c.log.InfoContext(ctx, "siro recording ready", "recording", r.Event.RecordingID)
	return nil
}

func (c crm) contactByPhone(ctx context.Context, number string) (*symbo.Contact, error) {
	return nil, symbo.ErrNoContact
}

func (c crm) logCall(ctx context.Context, source, id string) error {
	if err := c.save(ctx, "call", source, id); err != nil {
		return err
	}
	c.log.InfoContext(ctx, "call logged", "source", source, "call", id)
	return nil
}

func (c crm) pendingAppointments(ctx context.Context) []siro.SyncEngagement { return nil }

// mux mounts every vendor whose secret is configured. Each secret
// variable holds one secret or several separated by spaces, every one of
// which verifies: during a rotation, the new one next to the old one.
func mux(log *slog.Logger, getenv func(string) string, store crm, st *stores) (*http.ServeMux, *siro.Client, []func(context.Context) error, error) {
	m := http.NewServeMux()
	common := append([]webhook.Option{webhook.WithLogger(log)}, st.webhookOptions...)
	var closers []func(context.Context) error
	var sc *siro.Client
	for _, v := range [...]struct{ vendor, env, path string }{
		{"siro", "SIRO_WEBHOOK_SECRET", "POST /webhooks/siro"},
		{"symbo", "SYMBO_WEBHOOK_SECRET", "POST /webhooks/symbo, GET /symbo/lookup"},
		{"callsync", "CALLSYNC_WEBHOOK_SECRET", "POST /webhooks/callsync"},
		{"sivo", "SIVO_WEBHOOK_SECRET", "POST /webhooks/sivo"},
		{"engrami", "ENGRAMI_TOOL_SECRET", "POST /tools/lookup-contact"},
	} {
		if len(strings.Fields(getenv(v.env))) == 0 {
			log.Warn("vendor not mounted: its secret is not set", "vendor", v.vendor, "set", v.env, "serves", v.path)
		}
	}
	if tok := getenv("SIRO_ORG_TOKEN"); tok != "" {
		// One rate limit per token, shared by every replica.
		opts := []siro.Option{siro.WithOrgToken(tok), siro.WithLogger(log), siro.WithLimiter(st.limiter), siro.WithObserver(st.tel.Observer)}
		if id := getenv("SIRO_OAUTH_CLIENT_ID"); id != "" {
			opts = append(opts, siro.WithOAuthApp(id, getenv("SIRO_OAUTH_CLIENT_SECRET"), getenv("SIRO_USER_ID"), siro.ScopeRead))
		}
		var err error
		if sc, err = siro.NewClient(opts...); err != nil {
			return nil, nil, nil, err
		}
	}
	if secrets := strings.Fields(getenv("SIRO_WEBHOOK_SECRET")); len(secrets) > 0 {
		cb := siro.Callbacks{Ready: store.writeBack}
		if sc != nil && getenv("SIRO_OAUTH_CLIENT_ID") != "" {
			cb.FetchDetails = sc
		}
		h, err := siro.NewHandler(secrets, cb, common...)
		if err != nil {
			return nil, nil, nil, err
		}
		m.Handle("POST /webhooks/siro", h)
		closers = append(closers, h.Shutdown)
	}
	if secrets := strings.Fields(getenv("SYMBO_WEBHOOK_SECRET")); len(secrets) > 0 {
		// The lookup serves contact data: Symbo signs its requests with
		// the same webhook secret.
		lookup, err := symbo.NewLookupHandler(secrets, store.contactByPhone, symbo.WithLookupLogger(log))
		if err != nil {
			return nil, nil, nil, err
		}
		calls, err := symbo.NewHandler(secrets, symbo.Callbacks{
			Call: func(ctx context.Context, ev *symbo.CallEvent) error { return store.logCall(ctx, "symbo", ev.Data.ID) },
		}, common...)
		if err != nil {
			return nil, nil, nil, err
		}
		m.Handle("GET /symbo/lookup", lookup)
		m.Handle("POST /webhooks/symbo", calls)
		closers = append(closers, calls.Shutdown)
	}
	if secrets := strings.Fields(getenv("CALLSYNC_WEBHOOK_SECRET")); len(secrets) > 0 {
		h, err := callsync.NewHandler(secrets, callsync.Callbacks{
			CallLogged: func(ctx context.Context, ev *callsync.Event) error {
				return store.logCall(ctx, "callsync", string(ev.Data.CallDetails.CallID))
			},
		}, common...)
		if err != nil {
			return nil, nil, nil, err
		}
		m.Handle("POST /webhooks/callsync", h)
		closers = append(closers, h.Shutdown)
	}
	if secrets := strings.Fields(getenv("SIVO_WEBHOOK_SECRET")); len(secrets) > 0 {
		h, err := sivo.NewHandler(secrets, sivo.Callbacks{
			CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
				return store.logCall(ctx, "sivo", c.CallID)
			},
		}, common...)
		if err != nil {
			return nil, nil, nil, err
		}
		m.Handle("POST /webhooks/sivo", h)
		closers = append(closers, h.Shutdown)
	}
	if secrets := strings.Fields(getenv("ENGRAMI_TOOL_SECRET")); len(secrets) > 0 {
		type lookupParams struct {
			Phone string `json:"phone" required:"true"`
		}
		current := webhook.SecretsFunc(func(context.Context, string) ([]string, error) { return secrets, nil })
		h, err := engrami.NewToolHandler("", func(ctx context.Context, p lookupParams) (*symbo.Contact, error) {
			c, err := store.contactByPhone(ctx, p.Phone)
			if errors.Is(err, symbo.ErrNoContact) {
				// An ordinary answer, not a failure of the tool (500).
				return nil, &engrami.ToolError{Status: http.StatusNotFound, Code: "not_found", Message: "no contact has this phone number"}
			}
			return c, err
		}, engrami.WithToolLogger(log), engrami.WithToolSecretSource(current, webhook.FixedTenant("default")))
		if err != nil {
			return nil, nil, nil, err
		}
		m.Handle("POST /tools/lookup-contact", h)
	}
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	if st.ui != nil {
		m.Handle("/riverui/", st.ui)
	}
	return m, sc, closers, nil
}

// stores is what the backend keeps across restarts, in one database.
type stores struct {
	kind           string // "SQLite" or "PostgreSQL"
	inboxSchema    string // PostgreSQL: the inbox's schema
	webhookOptions []webhook.Option
	dedupe         *sqldedupe.Store
	checkpoint     *sirosql.Checkpoint
	limiter        *sirosql.Limiter
	inbox          durableInbox
	ui             http.Handler // River UI behind its token (PostgreSQL), or nil
	tel            *otelcallcrm.Telemetry
	metrics        http.Handler // Prometheus /metrics
	close          func()
}

// durableInbox is what the backend uses of a riverinbox.Inbox, whichever
// database it is on.
type durableInbox interface {
	webhook.Inbox
	Start(context.Context) error
	Stop(context.Context) error
	Counts(context.Context) (riverinbox.Counts, error)
	DeadLetters(context.Context, riverinbox.Filter) iter.Seq2[riverinbox.DeadLetter, error]
	Retry(context.Context, int64) error
	Discard(context.Context, int64) error
}

// sqliteDSN opens path as the stores need it on SQLite: WAL, a busy
// timeout on every connection, immediate transactions.
func sqliteDSN(path string) string { return riverinbox.SQLiteDSN(path) }

// telemetry sets up the OpenTelemetry adapter: Prometheus metrics, and
// traces to stdout (OTEL_TRACES=stdout) or to OTLP
// (OTEL_EXPORTER_OTLP_ENDPOINT, read by the exporter). depth reads the
// inbox's backlog for the inbox depth gauge.
func telemetry(ctx context.Context, getenv func(string) string, depth func(context.Context) (int64, error)) (*otelcallcrm.Telemetry, http.Handler, error) {
	reg := prometheus.NewRegistry()
	prom, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, nil, err
	}
	cfg := otelcallcrm.SetupConfig{ServiceName: "crm-backend", MetricReaders: []sdkmetric.Reader{prom},
		Options: []otelcallcrm.Option{otelcallcrm.WithInboxDepth(depth)}}
	if getenv("OTEL_TRACES") == "stdout" {
		cfg.Stdout = os.Stdout
	}
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" {
		exp, err := otlptracehttp.New(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("OTLP exporter: %w", err)
		}
		cfg.SpanExporters = []sdktrace.SpanExporter{exp}
	}
	tel, err := otelcallcrm.Setup(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return tel, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}

// openStores opens the database (the SQLite file at dbPath, or
// DATABASE_URL's PostgreSQL), creates the tables it needs and returns the
// stores on it. All the wiring between this example and the durable
// packages is here.
func openStores(ctx context.Context, log *slog.Logger, getenv func(string) string, dbPath string) (*stores, error) {
	st := &stores{close: func() {}}
	var db *sql.DB
	var pool *pgxpool.Pool
	if url := getenv("DATABASE_URL"); url != "" {
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		cfg.MaxConns = max(cfg.MaxConns, 60) // above the inbox's 50 workers
		if pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
			return nil, err
		}
		db = stdlib.OpenDBFromPool(pool)
		st.kind = "PostgreSQL"
		st.close = func() { db.Close(); pool.Close() }
	} else {
		var err error
		if db, err = sql.Open("sqlite", sqliteDSN(dbPath)); err != nil {
			return nil, err
		}
		st.kind = "SQLite"
		st.close = func() { db.Close() }
	}
	err := st.open(ctx, log, getenv, db, pool)
	if err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

func (st *stores) open(ctx context.Context, log *slog.Logger, getenv func(string) string, db *sql.DB, pool *pgxpool.Pool) error {
	tel, metrics, err := telemetry(ctx, getenv, func(ctx context.Context) (int64, error) {
		c, err := st.inbox.Counts(ctx)
		return c.Pending + c.Retrying, err
	})
	if err != nil {
		return err
	}
	st.tel, st.metrics = tel, metrics
	st.webhookOptions = append(st.webhookOptions, webhook.WithObserver(tel.Observer))
	dedupe, err := sqldedupe.New(db, sqldedupe.WithLogger(log))
	if err != nil {
		return err
	}
	if err := dedupe.CreateTable(ctx); err != nil {
		return err
	}
	st.dedupe = dedupe
	st.webhookOptions = append(st.webhookOptions, webhook.WithDedupe(dedupe))
	if _, err := db.ExecContext(ctx, crmDDL); err != nil {
		return fmt.Errorf("crm_activity: %w", err)
	}
	if st.checkpoint, err = sirosql.NewCheckpoint(db, "siro-appointments"); err != nil {
		return err
	}
	if err := st.checkpoint.CreateTable(ctx); err != nil {
		return err
	}
	// Siro allows 1,000 requests per minute per token: leave headroom.
	if st.limiter, err = sirosql.NewLimiter(db, "siro-org", 900); err != nil {
		return err
	}
	if err := st.limiter.CreateTable(ctx); err != nil {
		return err
	}
	inboxOpts := []riverinbox.Option{riverinbox.WithLogger(log), riverinbox.WithObserver(tel.Observer)}
	if pool == nil {
		inbox, err := riverinbox.NewSQLite(db, inboxOpts...)
		if err != nil {
			return err
		}
		st.inbox = inbox
		st.webhookOptions = append(st.webhookOptions, webhook.WithInbox(inbox))
		return inbox.Migrate(ctx)
	}
	// The inbox's schema is not DATABASE_URL's search_path: two
	// deployments sharing a database need one each.
	st.inboxSchema = cmp.Or(getenv("INBOX_SCHEMA"), riverinbox.DefaultSchema)
	inboxOpts = append(inboxOpts, riverinbox.WithSchema(st.inboxSchema))
	inbox, err := riverinbox.NewPgx(pool, inboxOpts...)
	if err != nil {
		return err
	}
	if err := inbox.Migrate(ctx); err != nil {
		return err
	}
	st.inbox = inbox
	st.webhookOptions = append(st.webhookOptions, webhook.WithInbox(inbox))
	if token := getenv("RIVER_UI_TOKEN"); token != "" {
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints:                riverui.NewEndpoints(inbox.Client(), nil),
			JobListHideArgsByDefault: true, // job args are vendor payloads: contact data
			Logger:                   log,
			Prefix:                   "/riverui",
		})
		if err != nil {
			return fmt.Errorf("river UI: %w", err)
		}
		if err := ui.Start(ctx); err != nil {
			return fmt.Errorf("river UI: %w", err)
		}
		st.ui = requireBearer(token, ui)
	}
	return nil
}

// requireBearer serves h only to requests carrying the token, compared in
// constant time: "Authorization: Bearer token" (scripts, curl) or HTTP
// Basic with the token as the password and any user name (a browser: it
// cannot add a Bearer header to a page it navigates to or to the UI's own
// requests, but it asks for Basic credentials once and resends them).
// Others get 401 with both challenges. Since a browser resends Basic
// credentials on every request to the UI, a cross-site form's too, and
// River UI's API reads a text/plain body (no CORS preflight), cross-origin
// browser requests other than GET, HEAD and OPTIONS are refused (403).
func requireBearer(token string, h http.Handler) http.Handler {
	want := []byte(token)
	h = http.NewCrossOriginProtection().Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := "", false
		if _, pass, basic := r.BasicAuth(); basic {
			got, ok = pass, true
		} else if auth := r.Header.Get("Authorization"); len(auth) > len("Bearer ") && strings.EqualFold(auth[:len("Bearer ")], "Bearer ") {
			got, ok = auth[len("Bearer "):], true
		}
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Add("WWW-Authenticate", `Basic realm="river-ui", charset="UTF-8"`)
			w.Header().Add("WWW-Authenticate", `Bearer realm="river-ui"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func run(ctx context.Context, log *slog.Logger, getenv func(string) string, addr, dbPath string) error {
	store := crm{log: log}
	st, err := openStores(ctx, log, getenv, dbPath)
	if err != nil {
		return err
	}
	defer st.close()
	m, sc, closers, err := mux(log, getenv, store, st)
	if err != nil {
		return err
	}
	// Workers start once every receiver has registered. They get their
	// own context: Stop below lets running callbacks finish.
	if err := st.inbox.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	log.Info("durable state: deliveries are stored before they are acknowledged", "database", st.kind, "inbox_schema", st.inboxSchema, "river_ui", st.ui != nil)
	srv := newServer(addr, m)
	if sc != nil {
		go syncLoop(ctx, log, sc, store, st.checkpoint)
	}
	go cleanupLoop(ctx, log, st.dedupe)
	errc := make(chan error, 2)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", addr)
	var metricsSrv *http.Server
	if maddr := cmp.Or(getenv("METRICS_ADDR"), "127.0.0.1:9464"); maddr != "off" {
		mm := http.NewServeMux()
		mm.Handle("GET /metrics", st.metrics)
		metricsSrv = newServer(maddr, mm)
		go func() { errc <- metricsSrv.ListenAndServe() }()
		log.Info("metrics", "addr", maddr, "path", "/metrics")
	}
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	// Let in-flight deliveries finish; vendors retry anything refused now.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = errors.Join(serveErr, srv.Shutdown(shutdownCtx))
	if metricsSrv != nil {
		err = errors.Join(err, metricsSrv.Shutdown(shutdownCtx))
	}
	for _, c := range closers {
		err = errors.Join(err, c(shutdownCtx))
	}
	// Deliveries still queued stay in the database for the next start or
	// another replica.
	err = errors.Join(err, st.inbox.Stop(shutdownCtx))
	return errors.Join(err, st.tel.Shutdown(shutdownCtx))
}

// newServer has the timeouts a server facing the internet needs: a slow or
// silent client cannot hold a connection (the receivers also bound each
// body's read and answer 408).
func newServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second, // above every callback deadline (10 s)
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// cleanupLoop deletes the dedupe table's expired rows (committed keys
// past their 72 h TTL, reservations whose holder died) at start and then
// hourly; without it the table keeps a row for every delivery ever
// received.
func cleanupLoop(ctx context.Context, log *slog.Logger, store *sqldedupe.Store) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := store.Cleanup(ctx); err != nil && ctx.Err() == nil {
			log.Warn("dedupe cleanup", "error", err)
		} else if n > 0 {
			log.Info("dedupe cleanup", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// syncLoop pushes changed appointments to Siro every 10 minutes (the
// guide's batch cadence). The checkpoint keeps how far a run got, so a run
// cut short by a restart resumes where it stopped (pendingAppointments
// must list the same records in the same order until they are synced);
// a finished run resets it.
func syncLoop(ctx context.Context, log *slog.Logger, c *siro.Client, store crm, cp *sirosql.Checkpoint) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if recs := store.pendingAppointments(ctx); len(recs) > 0 {
			res, err := c.BulkSyncEngagements(ctx, recs, siro.BulkOptions{Checkpoint: cp})
			if err != nil {
				log.Warn("siro sync interrupted", "error", err)
			} else {
				log.Info("siro sync", "synced", res.Synced, "failed", res.Failed)
				if err := cp.Reset(ctx); err != nil {
					log.Warn("siro sync checkpoint", "error", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
