// Package riverinbox is a durable webhook.Inbox on River
// (github.com/riverqueue/river): a receiver answers 2xx only after the
// delivery is committed to the database as a River job, and any
// replica's workers then run the same typed callbacks the inline mode
// runs. Nothing acknowledged is lost when a process crashes or the
// database restarts. It is its own Go module, so River and the database
// drivers stay out of programs that do not use it.
//
// # One inbox, three databases
//
// Inbox[TTx] has one API whatever the database; TTx is the driver's
// transaction type, the type of the exactly-once handle (Tx) callbacks
// get:
//
//	NewPgx(pool)   PostgreSQL through pgx             Tx[pgx.Tx](ctx)
//	NewSQL(db)     PostgreSQL through database/sql    Tx[*sql.Tx](ctx)
//	NewSQLite(db)  SQLite (modernc.org/sqlite, no cgo) Tx[*sql.Tx](ctx)
//
// Setup, once per process:
//
//	inbox, err := riverinbox.NewPgx(pool)
//	err = inbox.Migrate(ctx) // schema, River's tables, the processed table
//	h, err := sivo.NewHandler(secrets, callbacks, webhook.WithInbox(inbox))
//	// ... every other receiver with webhook.WithInbox(inbox) ...
//	err = inbox.Start(ctx)   // this replica works deliveries
//	defer inbox.Stop(shutdownCtx)
//
// SQLite is one machine and one writer at a time. NewSQLite checks what it
// needs and fails naming what to change: a file, WAL (set if missing), a
// busy timeout of at least 1 s, transactions that begin IMMEDIATE (or a
// pool of one connection); SQLiteDSN builds such a DSN. Processes sharing
// the file take turns to write; one holding it longer than the busy
// timeout makes deliveries answer 503 until it lets go. Replicas on
// several machines need PostgreSQL.
//
// # Guarantees
//
//   - Acknowledged means stored: Enqueue returns after the insert committed
//     (concurrent deliveries share a transaction: group commit,
//     WithMaxBatch); if it fails the receiver answers 503 and the vendor
//     retries.
//   - Duplicates: jobs are unique by (provider, receiver name, tenant,
//     delivery key) within the inbox's queue while pending, running,
//     retrying or completed (kept WithRetention, default 72 h), so a
//     redelivery to any replica stores nothing and is answered 2xx. Two
//     inboxes on their own queues (WithQueue) each store and process
//     their own copy.
//   - Failures: a callback error or panic is retried with River's
//     exponential backoff up to WithMaxAttempts; a stored body that does not
//     parse is dead-lettered at once; a replica that dies mid-callback has
//     its jobs run again after WithRescueAfter (default job timeout 30 s +
//     30 s).
//   - Exactly once with Tx: a callback that writes through Tx commits its
//     writes together with a row keyed on the delivery (the
//     callcrm_inbox_processed table) and the job's completion. Only one
//     transaction per delivery can write that row, so a crash, a retry, a
//     paused replica whose job was rescued, a retried dead letter or a
//     vendor's resend never applies the writes twice; a second attempt's
//     transaction is rolled back.
//   - At least once otherwise: a callback that writes anywhere else can run
//     twice for one delivery. Make such writes idempotent (key them on
//     ev.ID).
//
// Several replicas may share the database: any replica's workers take any
// replica's deliveries, so every replica must register the same receivers.
//
// # The dedupe window
//
// River's cleaner deletes completed jobs with the retention of the River
// client that leads the schema. On PostgreSQL the inbox defaults to its
// own schema (DefaultSchema), so an application's own River client (with
// its own retention) never cleans the inbox's jobs. In a shared schema,
// and on SQLite, the processed table still keeps a late redelivery from
// being written twice through Tx.
//
// # Dead letter
//
// DeadLetters lists deliveries that will not run again by themselves
// (attempts exhausted, or a body that does not parse), filtered by
// provider, receiver, event type and time; Retry runs one again (safe
// after a vendor's resend, see Retry), Discard deletes it, Counts counts
// pending, running, retrying and dead deliveries for a dashboard. River UI
// works on the same tables (PostgreSQL).
//
// # Pool size
//
// Each callback that uses Tx holds one connection of the pool while it
// runs, and River needs a few of its own: make the pool larger than the
// number of callbacks writing through Tx at once.
package riverinbox
