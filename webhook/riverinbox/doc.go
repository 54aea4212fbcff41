// Package riverinbox is a durable webhook.Inbox on River
// (github.com/riverqueue/river), the PostgreSQL job queue: a receiver
// answers 2xx only after the delivery is committed to PostgreSQL as a
// River job, and any replica's workers then run the same typed callbacks
// the inline mode runs. Nothing acknowledged is lost when a process
// crashes or the database restarts.
//
// Setup, once per process:
//
//	if err := riverinbox.Migrate(ctx, pool); err != nil { ... } // River's tables
//	inbox, err := riverinbox.New(pool)
//	h, err := sivo.NewHandler(secrets, callbacks, webhook.WithInbox(inbox))
//	// ... every other receiver with webhook.WithInbox(inbox) ...
//	err = inbox.Start(ctx)   // this replica works deliveries
//	defer inbox.Stop(shutdownCtx)
//
// # Guarantees
//
//   - Acknowledged means stored: Enqueue returns after the insert committed;
//     if it fails the receiver answers 503 and the vendor retries.
//   - Duplicates: jobs are unique by (provider, receiver name, delivery key)
//     while pending, running, retrying or completed (completed jobs are kept
//     WithRetention, default 72 h), so a redelivery to any replica stores
//     nothing and is answered 2xx.
//   - Failures: a callback error or panic is retried with River's
//     exponential backoff up to WithMaxAttempts; a replica that dies
//     mid-callback has its jobs retried by another after WithRescueAfter.
//   - Effectively once with Tx: a callback that writes through
//     riverinbox.Tx(ctx) commits its writes together with the job's
//     completion (River's JobCompleteTx), so a crash at any point applies
//     the writes exactly once.
//   - At least once otherwise: a callback that writes anywhere else (another
//     database, an HTTP API, a file) can run twice for one delivery, when
//     the process dies after the write and before River records the job as
//     completed. Make such writes idempotent (key them on ev.ID).
//
// Several replicas may share the database: any replica's workers take any
// replica's deliveries, so every replica must register the same receivers
// (same vendors and webhook.WithName names).
//
// # Dead letter
//
// After WithMaxAttempts failed attempts a job is discarded: it stays in
// river_job with state 'discarded', its errors and the stored delivery,
// for WithDeadLetterRetention (default 30 days). List and retry them with
// River's client (Inbox.Client):
//
//	res, err := inbox.Client().JobList(ctx, river.NewJobListParams().
//		Kinds(riverinbox.Kind).States(rivertype.JobStateDiscarded).First(100))
//	for _, job := range res.Jobs {
//		var d riverinbox.DeliveryArgs
//		_ = json.Unmarshal(job.EncodedArgs, &d) // d.Provider, d.ID, d.Type, d.Raw
//		fmt.Println(job.ID, d.Provider, d.ID, job.Errors[len(job.Errors)-1].Error)
//		_, err = inbox.Client().JobRetry(ctx, job.ID) // run it again now
//	}
//
// or in SQL: SELECT id, args->>'provider', args->>'id', errors FROM
// river_job WHERE kind = 'callcrm_webhook_delivery' AND state = 'discarded'.
// River UI (riverqueue.com/docs/river-ui) works on the same tables and
// retries from the browser.
//
// # Pool size
//
// Each callback that uses Tx holds one connection of the pool while it
// runs, and River needs a few of its own: make the pool's MaxConns larger
// than WithWorkers (pgxpool's default is 4 or the number of CPUs).
package riverinbox
