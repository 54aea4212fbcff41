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
// is not set is simply not mounted.
//
// It is durable with zero setup: the dedupe store (webhook/sqldedupe), the
// Siro sync checkpoint and rate limiter (siro/sirosql) live in a SQLite
// file it creates (-db, default crm-backend.db; pure Go, no cgo), so a
// restart neither processes a delivery twice nor restarts a sync from
// scratch. SQLite is one machine: run replicas on PostgreSQL instead.
//
// DATABASE_URL=postgres://... moves everything to PostgreSQL, for
// replicas: the same stores, and every receiver in enqueue mode on
// webhook/riverinbox (each delivery committed as a River job before the
// vendor gets its 2xx, then processed by the workers of any replica), and
// River UI at /riverui/ when RIVER_UI_TOKEN is set (requests need
// "Authorization: Bearer $RIVER_UI_TOKEN"):
//
//	DATABASE_URL=postgres://crm@db/crm RIVER_UI_TOKEN=... SIVO_WEBHOOK_SECRET=... go run .
package main

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/callcrm/callcrm-go/callsync"
	"github.com/callcrm/callcrm-go/engrami"
	"github.com/callcrm/callcrm-go/siro"
	"github.com/callcrm/callcrm-go/siro/sirosql"
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/riverinbox"
	"github.com/callcrm/callcrm-go/webhook/sqldedupe"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the SQLite driver, pure Go
	"riverqueue.com/riverui"
)

func main() {
	dbPath := flag.String("db", "crm-backend.db", "SQLite file for the dedupe store and sync state (created if missing; ignored when DATABASE_URL is set)")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, os.Getenv, envOr("ADDR", ":8080"), *dbPath); err != nil {
		log.Error("crm-backend stopped", "error", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// crm stands for your own storage.
type crm struct{ log *slog.Logger }

func (c crm) writeBack(ctx context.Context, r *siro.ReadyRecording) error {
	c.log.InfoContext(ctx, "siro recording ready", "recording", r.Event.RecordingID)
	return nil
}

func (c crm) contactByPhone(ctx context.Context, number string) (*symbo.Contact, error) {
	return nil, symbo.ErrNotFound
}

func (c crm) logCall(ctx context.Context, source, id string) error {
	c.log.InfoContext(ctx, "call logged", "source", source, "call", id)
	return nil
}

func (c crm) pendingAppointments(ctx context.Context) []siro.SyncEngagement { return nil }

// mux mounts every vendor whose secret is configured.
func mux(log *slog.Logger, getenv func(string) string, store crm, st *stores) (*http.ServeMux, *siro.Client, []func(context.Context) error, error) {
	m := http.NewServeMux()
	common := append([]webhook.Option{webhook.WithLogger(log)}, st.webhookOptions...)
	var closers []func(context.Context) error
	var sc *siro.Client
	if tok := getenv("SIRO_ORG_TOKEN"); tok != "" {
		// One rate limit per token, shared by every replica.
		opts := []siro.Option{siro.WithOrgToken(tok), siro.WithLogger(log), siro.WithLimiter(st.limiter)}
		if id := getenv("SIRO_OAUTH_CLIENT_ID"); id != "" {
			opts = append(opts, siro.WithOAuthApp(id, getenv("SIRO_OAUTH_CLIENT_SECRET"), getenv("SIRO_USER_ID"), siro.ScopeRead))
		}
		var err error
		if sc, err = siro.NewClient(opts...); err != nil {
			return nil, nil, nil, err
		}
	}
	if secret := getenv("SIRO_WEBHOOK_SECRET"); secret != "" {
		opts := common
		if sc != nil && getenv("SIRO_OAUTH_CLIENT_ID") != "" {
			opts = append(opts, siro.WithFetchDetails(sc))
		}
		h, err := siro.NewHandler([]string{secret}, siro.Callbacks{Ready: store.writeBack}, opts...)
		if err != nil {
			return nil, nil, nil, err
		}
		m.Handle("POST /webhooks/siro", h)
		closers = append(closers, h.Shutdown)
	}
	if secret := getenv("SYMBO_WEBHOOK_SECRET"); secret != "" {
		// The lookup serves contact data: Symbo signs its requests with
		// the same webhook secret.
		lookup, err := symbo.NewLookupHandler([]string{secret}, store.contactByPhone, webhook.WithLogger(log))
		if err != nil {
			return nil, nil, nil, err
		}
		calls, err := symbo.NewHandler([]string{secret}, symbo.Callbacks{
			Call: func(ctx context.Context, ev *symbo.CallEvent) error { return store.logCall(ctx, "symbo", ev.Data.ID) },
		}, common...)
		if err != nil {
			return nil, nil, nil, err
		}
		m.Handle("GET /symbo/lookup", lookup)
		m.Handle("POST /webhooks/symbo", calls)
		closers = append(closers, calls.Shutdown)
	}
	if secret := getenv("CALLSYNC_WEBHOOK_SECRET"); secret != "" {
		h, err := callsync.NewHandler([]string{secret}, callsync.Callbacks{
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
	if secret := getenv("SIVO_WEBHOOK_SECRET"); secret != "" {
		h, err := sivo.NewHandler([]string{secret}, sivo.Callbacks{
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
	if secret := getenv("ENGRAMI_TOOL_SECRET"); secret != "" {
		type lookupParams struct {
			Phone string `json:"phone" required:"true"`
		}
		h, err := engrami.NewToolHandler(secret, func(ctx context.Context, p lookupParams) (*symbo.Contact, error) {
			return store.contactByPhone(ctx, p.Phone)
		}, webhook.WithLogger(log))
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
	webhookOptions []webhook.Option
	checkpoint     *sirosql.Checkpoint
	limiter        *sirosql.Limiter
	inbox          inbox // PostgreSQL only, until riverinbox speaks SQLite

	ui    http.Handler // River UI behind its token (PostgreSQL), or nil
	close func()
}

// inbox is the durable inbox the receivers enqueue into, whatever its
// database (riverinbox's types differ per database driver).
type inbox interface {
	webhook.Inbox
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// sqliteDSN opens path as the stores need it on SQLite: WAL, a busy
// timeout on every connection, immediate transactions.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
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
		cfg.MaxConns = max(cfg.MaxConns, 20) // above the inbox's 10 workers
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
	dedupe, err := sqldedupe.New(db, sqldedupe.WithLogger(log))
	if err != nil {
		return err
	}
	if err := dedupe.CreateTable(ctx); err != nil {
		return err
	}
	st.webhookOptions = append(st.webhookOptions, webhook.WithDedupe(dedupe))
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
	if pool == nil {
		return nil
	}
	if err := riverinbox.Migrate(ctx, pool, riverinbox.WithLogger(log)); err != nil {
		return err
	}
	in, err := riverinbox.New(pool, riverinbox.WithLogger(log))
	if err != nil {
		return err
	}
	st.inbox = in
	st.webhookOptions = append(st.webhookOptions, webhook.WithInbox(in))
	if token := getenv("RIVER_UI_TOKEN"); token != "" {
		ui, err := riverui.NewHandler(&riverui.HandlerOpts{
			Endpoints:                riverui.NewEndpoints(in.Client(), nil),
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

// requireBearer serves h only to requests carrying "Authorization: Bearer
// token" (compared in constant time); others get 401.
func requireBearer(token string, h http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="river-ui"`)
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
	if st.inbox != nil {
		// Workers start once every receiver has registered. They get their
		// own context: Stop below lets running callbacks finish.
		if err := st.inbox.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		log.Info("deliveries are stored in PostgreSQL before they are acknowledged")
	}
	log.Info("durable state", "database", st.kind, "river_ui", st.ui != nil)
	srv := newServer(addr, m)
	if sc != nil {
		go syncLoop(ctx, log, sc, store, st.checkpoint)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", addr)
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	// Let in-flight deliveries finish; vendors retry anything refused now.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = errors.Join(serveErr, srv.Shutdown(shutdownCtx))
	for _, c := range closers {
		err = errors.Join(err, c(shutdownCtx))
	}
	if st.inbox != nil {
		// Deliveries still queued stay in PostgreSQL for the next start
		// or another replica.
		err = errors.Join(err, st.inbox.Stop(shutdownCtx))
	}
	return err
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
