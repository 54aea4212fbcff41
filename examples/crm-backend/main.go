// Command crm-backend is the skeleton of a CRM backend wired to every
// vendor: one http.Server with each vendor's handler on a ServeMux, secrets
// from the environment, structured logs, graceful shutdown that lets
// in-flight deliveries finish, and a periodic Siro sync job.
//
//	SIRO_ORG_TOKEN=... SIRO_WEBHOOK_SECRET=whsec_... SYMBO_WEBHOOK_SECRET=... \
//	CALLSYNC_WEBHOOK_SECRET=... SIVO_WEBHOOK_SECRET=... ENGRAMI_TOOL_SECRET=... \
//	go run ./examples/crm-backend
//
// A vendor whose secret is not set is simply not mounted.
//
// Durable mode (-durable, or DATABASE_URL set) puts every receiver in
// enqueue mode on webhook/riverinbox: each delivery is committed to
// PostgreSQL as a River job before the vendor gets its 2xx, then processed
// by the workers of any replica, so nothing acknowledged is lost when the
// process dies and slow CRM writes never make a vendor time out:
//
//	DATABASE_URL=postgres://crm@db/crm SIVO_WEBHOOK_SECRET=... go run ./examples/crm-backend -durable
package main

import (
	"context"
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
	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/symbo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/riverinbox"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	durable := flag.Bool("durable", false, "store every delivery in PostgreSQL (DATABASE_URL) before answering 2xx")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if *durable && os.Getenv("DATABASE_URL") == "" {
		log.Error("-durable needs DATABASE_URL (postgres://user:password@host/db)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, os.Getenv, envOr("ADDR", ":8080")); err != nil {
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
	return nil, symbo.ErrNoContact
}

func (c crm) logCall(ctx context.Context, source, id string) error {
	c.log.InfoContext(ctx, "call logged", "source", source, "call", id)
	return nil
}

func (c crm) pendingAppointments(ctx context.Context) []siro.SyncEngagement { return nil }

// mux mounts every vendor whose secret is configured.
func mux(log *slog.Logger, getenv func(string) string, store crm, common []webhook.Option) (*http.ServeMux, *siro.Client, []func(context.Context) error, error) {
	m := http.NewServeMux()
	common = append([]webhook.Option{webhook.WithLogger(log)}, common...)
	var closers []func(context.Context) error
	var sc *siro.Client
	if tok := getenv("SIRO_ORG_TOKEN"); tok != "" {
		opts := []siro.Option{siro.WithOrgToken(tok), siro.WithLogger(log)}
		if id := getenv("SIRO_OAUTH_CLIENT_ID"); id != "" {
			opts = append(opts, siro.WithOAuthApp(id, getenv("SIRO_OAUTH_CLIENT_SECRET"), getenv("SIRO_USER_ID"), siro.ScopeRead))
		}
		var err error
		if sc, err = siro.NewClient(opts...); err != nil {
			return nil, nil, nil, err
		}
	}
	if secret := getenv("SIRO_WEBHOOK_SECRET"); secret != "" {
		cb := siro.Callbacks{Ready: store.writeBack}
		if sc != nil && getenv("SIRO_OAUTH_CLIENT_ID") != "" {
			cb.FetchDetails = sc
		}
		h, err := siro.NewHandler([]string{secret}, cb, common...)
		if err != nil {
			return nil, nil, nil, err
		}
		m.Handle("POST /webhooks/siro", h)
		closers = append(closers, h.Shutdown)
	}
	if secret := getenv("SYMBO_WEBHOOK_SECRET"); secret != "" {
		// The lookup serves contact data: Symbo signs its requests with
		// the same webhook secret.
		lookup, err := symbo.NewLookupHandler([]string{secret}, store.contactByPhone, symbo.WithLookupLogger(log))
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
		}, engrami.WithToolLogger(log))
		if err != nil {
			return nil, nil, nil, err
		}
		m.Handle("POST /tools/lookup-contact", h)
	}
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return m, sc, closers, nil
}

// durableInbox connects to DATABASE_URL, runs River's migrations and
// returns the inbox every receiver enqueues into.
func durableInbox(ctx context.Context, log *slog.Logger, dsn string) (*riverinbox.Inbox, *pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	cfg.MaxConns = max(cfg.MaxConns, 20) // above the inbox's 10 workers
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := riverinbox.Migrate(ctx, pool, riverinbox.WithLogger(log)); err != nil {
		pool.Close()
		return nil, nil, err
	}
	inbox, err := riverinbox.New(pool, riverinbox.WithLogger(log))
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return inbox, pool, nil
}

func run(ctx context.Context, log *slog.Logger, getenv func(string) string, addr string) error {
	store := crm{log: log}
	var common []webhook.Option
	var inbox *riverinbox.Inbox
	if dsn := getenv("DATABASE_URL"); dsn != "" {
		var pool *pgxpool.Pool
		var err error
		if inbox, pool, err = durableInbox(ctx, log, dsn); err != nil {
			return err
		}
		defer pool.Close()
		common = append(common, webhook.WithInbox(inbox))
	}
	m, sc, closers, err := mux(log, getenv, store, common)
	if err != nil {
		return err
	}
	if inbox != nil {
		// Workers start once every receiver has registered. They get their
		// own context: Stop below lets running callbacks finish.
		if err := inbox.Start(context.WithoutCancel(ctx)); err != nil {
			return err
		}
		log.Info("durable mode: deliveries are stored in PostgreSQL before they are acknowledged")
	}
	srv := newServer(addr, m)
	if sc != nil {
		go syncLoop(ctx, log, sc, store)
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
	if inbox != nil {
		// Deliveries still queued stay in PostgreSQL for the next start
		// or another replica.
		err = errors.Join(err, inbox.Stop(shutdownCtx))
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
// guide's batch cadence).
func syncLoop(ctx context.Context, log *slog.Logger, c *siro.Client, store crm) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if recs := store.pendingAppointments(ctx); len(recs) > 0 {
			res, err := c.BulkSyncEngagements(ctx, recs, siro.BulkOptions{})
			if err != nil {
				log.Warn("siro sync interrupted", "error", err)
			} else {
				log.Info("siro sync", "synced", res.Synced, "failed", res.Failed)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
