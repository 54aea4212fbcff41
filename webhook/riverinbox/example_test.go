package riverinbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/callcrm/callcrm-go/sivo"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/callcrm/callcrm-go/webhook/riverinbox"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
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
	if err := riverinbox.Migrate(ctx, pool); err != nil {
		log.Fatal(err)
	}
	inbox, err := riverinbox.New(pool)
	if err != nil {
		log.Fatal(err)
	}
	h, err := sivo.NewHandler([]string{os.Getenv("SIVO_WEBHOOK_SECRET")}, sivo.Callbacks{
		CallEnded: func(ctx context.Context, ev *sivo.Event, c *sivo.CallEnded) error {
			tx, ok := riverinbox.Tx(ctx)
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

// The dead letter: deliveries whose callback failed WithMaxAttempts times.
func ExampleInbox_Client() {
	ctx := context.Background()
	pool, _ := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	inbox, _ := riverinbox.New(pool)
	res, err := inbox.Client().JobList(ctx, river.NewJobListParams().
		Kinds(riverinbox.Kind).States(rivertype.JobStateDiscarded).First(100))
	if err != nil {
		log.Fatal(err)
	}
	for _, job := range res.Jobs {
		var d riverinbox.DeliveryArgs
		if err := json.Unmarshal(job.EncodedArgs, &d); err != nil {
			continue
		}
		last := job.Errors[len(job.Errors)-1]
		fmt.Println(job.ID, d.Provider, d.ID, d.Type, last.Error)
		if _, err := inbox.Client().JobRetry(ctx, job.ID); err != nil { // once the cause is fixed
			log.Print(err)
		}
	}
}
