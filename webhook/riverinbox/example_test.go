package riverinbox_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/riverinbox"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"
)

// Every SIVO delivery is committed to PostgreSQL before SIVO gets its 200,
// then processed by any replica's workers. The CRM write goes through the
// job's transaction, so it lands exactly once even if the process dies.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	inbox, err := riverinbox.NewPgx(pool)
	if err != nil {
		log.Fatal(err)
	}
	if err := inbox.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	h, err := sivo.NewHandler([]string{os.Getenv("SIVO_WEBHOOK_SECRET")}, sivo.Callbacks{
		CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
			tx, ok := riverinbox.Tx[pgx.Tx](ctx)
			if !ok {
				return fmt.Errorf("not running in the River inbox")
			}
			_, err := tx.Exec(ctx, "INSERT INTO crm_calls (sivo_event_id, call_id) VALUES ($1, $2)", ev.ID, c.CallID)
			return err // nil: the insert and the job's completion commit together
		},
	}, webhook.WithInbox(inbox))
	if err != nil {
		log.Fatal(err)
	}
	if err := inbox.Start(ctx); err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: ":8080", Handler: h, ReadHeaderTimeout: 5 * time.Second}
	_ = srv.ListenAndServe()
	// On shutdown: srv.Shutdown, h.Shutdown, then inbox.Stop.
}

// The same inbox on a SQLite file: one machine, one writer at a time.
func ExampleNewSQLite() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", riverinbox.SQLiteDSN("crm.db"))
	if err != nil {
		log.Fatal(err)
	}
	inbox, err := riverinbox.NewSQLite(db)
	if err != nil {
		log.Fatal(err) // names what the DSN lacks (busy timeout, WAL, _txlock)
	}
	if err := inbox.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	_, err = sivo.NewHandler([]string{os.Getenv("SIVO_WEBHOOK_SECRET")}, sivo.Callbacks{
		CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
			tx, ok := riverinbox.Tx[*sql.Tx](ctx)
			if !ok {
				return fmt.Errorf("not running in the River inbox")
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO crm_calls (sivo_event_id, call_id) VALUES (?, ?)", ev.ID, c.CallID)
			return err
		},
	}, webhook.WithInbox(inbox))
	if err != nil {
		log.Fatal(err)
	}
}

// The dead letter: deliveries whose callback failed WithMaxAttempts times
// or whose body does not parse; retry them once the cause is fixed.
func ExampleInbox_DeadLetters() {
	ctx := context.Background()
	pool, _ := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	inbox, _ := riverinbox.NewPgx(pool)
	for d, err := range inbox.DeadLetters(ctx, riverinbox.Filter{Provider: "sivo", Since: time.Now().Add(-24 * time.Hour)}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(d.JobID, d.Provider, d.ID, d.Type, d.Errors[len(d.Errors)-1])
		if err := inbox.Retry(ctx, d.JobID); err != nil {
			log.Print(err)
		}
	}
	c, _ := inbox.Counts(ctx)
	fmt.Println(c.Pending, c.Running, c.Retrying, c.Dead)
}
