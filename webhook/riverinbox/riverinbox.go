package riverinbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callcrm/callcrm-go/internal/errtext"
	"github.com/callcrm/callcrm-go/webhook"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

type config struct {
	schema      string
	schemaSet   bool
	queue       string
	workers     int
	maxAttempts int
	jobTimeout  time.Duration
	rescueAfter time.Duration
	retention   time.Duration
	discarded   time.Duration
	logger      *slog.Logger
	pollEvery   time.Duration
	maxBatch    int
	observer    webhook.Observer
}

// Option configures an Inbox.
type Option func(*config) error

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// positive is the option name setting v, which must be positive.
func positive[T int | time.Duration](name string, v T, set func(*config)) Option {
	return func(c *config) error {
		if v <= 0 {
			return fmt.Errorf("%w: riverinbox.%s: %v must be positive", webhook.ErrInvalidOption, name, v)
		}
		set(c)
		return nil
	}
}

// upTo10000 is the option name setting n, which must be 1 to 10000.
func upTo10000(name string, n int, set func(*config)) Option {
	return func(c *config) error {
		if n <= 0 || n > 10000 {
			return fmt.Errorf("%w: riverinbox.%s: %d must be between 1 and 10000", webhook.ErrInvalidOption, name, n)
		}
		set(c)
		return nil
	}
}

// WithSchema puts River's tables in this PostgreSQL schema instead of
// DefaultSchema (River's Config.Schema); "" means the connection's
// search_path. Give the inbox a schema no other River client uses: River's
// cleaner deletes every completed job in its schema with its own client's
// retention; Migrate also drops two of River's indexes in a named schema
// (see Migrate), never with "". Not available on SQLite (an attached
// database would not commit atomically with the main one in WAL mode).
func WithSchema(name string) Option {
	return func(c *config) error {
		if name != "" && !identRe.MatchString(name) {
			return fmt.Errorf("%w: riverinbox.WithSchema: %q is not a plain SQL identifier", webhook.ErrInvalidOption, name)
		}
		c.schema, c.schemaSet = name, true
		return nil
	}
}

var queueRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,127}$`)

// WithQueue sets the River queue deliveries are inserted into and worked
// from (default DefaultQueue).
func WithQueue(name string) Option {
	return func(c *config) error {
		if !queueRe.MatchString(name) {
			return fmt.Errorf("%w: riverinbox.WithQueue: %q is not a valid River queue name (lower case letters, digits, _ and -)", webhook.ErrInvalidOption, name)
		}
		c.queue = name
		return nil
	}
}

// WithWorkers sets how many deliveries one replica processes at once
// (default 50). Each callback that uses Tx holds one pool connection while
// it runs: size the pool above the number of callbacks that can be
// writing at once.
func WithWorkers(n int) Option {
	return upTo10000("WithWorkers", n, func(c *config) { c.workers = n })
}

// WithMaxAttempts sets how many times a delivery's callback is tried
// before the job is discarded, the dead letter (default 25, River's
// default: about three weeks of backoff). A delivery whose stored body no
// longer parses is dead-lettered at its first attempt: that never heals.
func WithMaxAttempts(n int) Option {
	return positive("WithMaxAttempts", n, func(c *config) { c.maxAttempts = n })
}

// WithJobTimeout bounds each callback (default 30 s); its context is
// cancelled at the deadline and the attempt counts as failed.
func WithJobTimeout(d time.Duration) Option {
	return positive("WithJobTimeout", d, func(c *config) { c.jobTimeout = d })
}

// WithRescueAfter sets how long a job may stay running before River
// considers its worker dead (a crashed or paused replica) and runs it
// again (default: job timeout + 30 s, so 1 minute; River's rescuer looks
// every 30 s, so a crashed replica's deliveries run again within about
// 90 s). It must exceed the job timeout. A callback that is still running
// then (a paused process) can run twice, but its writes through Tx commit
// at most once.
func WithRescueAfter(d time.Duration) Option {
	return positive("WithRescueAfter", d, func(c *config) { c.rescueAfter = d })
}

// WithRetention sets how long completed deliveries are kept (default 72
// hours). While a completed job is kept, a redelivery of the same key
// enqueues nothing: keep it longer than the vendor's retry span (Siro's
// Svix retries for about 28 hours).
func WithRetention(d time.Duration) Option {
	return positive("WithRetention", d, func(c *config) { c.retention = d })
}

// WithDeadLetterRetention sets how long dead letters (discarded and
// cancelled deliveries) are kept before River's cleaner deletes them
// (default 30 days).
func WithDeadLetterRetention(d time.Duration) Option {
	return positive("WithDeadLetterRetention", d, func(c *config) { c.discarded = d })
}

// WithLogger logs failed and dead-lettered deliveries (no bodies) and
// River's own messages.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.logger = l; return nil }
}

// WithPollInterval sets how often workers look for jobs when no insert
// notification arrives (default 1 s with pgx, which has LISTEN/NOTIFY;
// 100 ms with database/sql and SQLite, which poll).
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 10*time.Millisecond {
			return fmt.Errorf("%w: riverinbox.WithPollInterval: %v is under 10ms", webhook.ErrInvalidOption, d)
		}
		c.pollEvery = d
		return nil
	}
}

// WithMaxBatch sets how many concurrent deliveries one insert transaction
// may carry (default 256). Enqueue groups the deliveries that arrive
// while a batch is being committed into the next one (group commit), so
// under load one commit acknowledges many; each Enqueue still returns
// only once its own row is committed. 1 inserts each delivery on its own.
func WithMaxBatch(n int) Option {
	return upTo10000("WithMaxBatch", n, func(c *config) { c.maxBatch = n })
}

// WithObserver reports every job (webhook.StageJob: attempt, outcome
// processed, retried or dead-lettered), continuing the trace of the
// request that stored the delivery (the receiver stores it in Event.Trace
// from Observer.Inject; the job calls Observer.Extract).
func WithObserver(o webhook.Observer) Option {
	return func(c *config) error {
		if o == nil {
			return fmt.Errorf("%w: riverinbox.WithObserver: nil observer", webhook.ErrInvalidOption)
		}
		c.observer = o
		return nil
	}
}

func newConfig(opts []Option) (config, error) {
	c := config{queue: DefaultQueue, schema: DefaultSchema, workers: 50, maxAttempts: river.MaxAttemptsDefault,
		jobTimeout: 30 * time.Second, retention: 72 * time.Hour, discarded: 30 * 24 * time.Hour, maxBatch: 256}
	for i, o := range opts {
		if o == nil {
			return c, fmt.Errorf("%w: riverinbox: option %d is nil", webhook.ErrInvalidOption, i)
		}
		if err := o(&c); err != nil {
			return c, err
		}
	}
	if c.rescueAfter == 0 {
		c.rescueAfter = c.jobTimeout + 30*time.Second
	}
	if c.rescueAfter <= c.jobTimeout {
		return c, fmt.Errorf("%w: riverinbox.WithRescueAfter: %v must exceed the job timeout %v", webhook.ErrInvalidOption, c.rescueAfter, c.jobTimeout)
	}
	return c, nil
}

// Inbox is a webhook.Inbox on River: deliveries are River jobs in the
// database, worked by every replica that started its Inbox. TTx is the
// transaction type of the database driver: pgx.Tx (NewPgx) or *sql.Tx
// (NewSQL for PostgreSQL through database/sql, NewSQLite). Safe for
// concurrent use.
type Inbox[TTx any] struct {
	b      *backend[TTx]
	cfg    config
	client *river.Client[TTx]
	batch  *batcher

	mu        sync.RWMutex
	receivers map[string]func(context.Context, *webhook.Event) error
	stop      context.CancelFunc
}

// NewPgx returns an Inbox storing deliveries in pool's PostgreSQL database
// through pgx (River's riverpgxv5 driver, with LISTEN/NOTIFY, so workers
// start on a delivery as soon as it is committed). Callbacks get the job's
// transaction with Tx[pgx.Tx].
func NewPgx(pool *pgxpool.Pool, opts ...Option) (*Inbox[pgx.Tx], error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: riverinbox.NewPgx: nil pool", webhook.ErrInvalidOption)
	}
	return newInbox(pgxBackend(pool), opts)
}

// NewSQL returns an Inbox storing deliveries in a PostgreSQL database
// opened with database/sql (for instance through pgx's stdlib driver,
// "pgx"; River's riverdatabasesql driver). Workers poll (WithPollInterval)
// as database/sql has no LISTEN. Callbacks get the job's transaction with
// Tx[*sql.Tx].
func NewSQL(db *sql.DB, opts ...Option) (*Inbox[*sql.Tx], error) {
	if db == nil {
		return nil, fmt.Errorf("%w: riverinbox.NewSQL: nil db", webhook.ErrInvalidOption)
	}
	return newInbox(sqlBackend(db, false), opts)
}

// NewSQLite returns an Inbox storing deliveries in a SQLite database file
// opened with database/sql through modernc.org/sqlite (no cgo; River's
// riversqlite driver). It checks what SQLite needs and fails naming what
// to change: a file (not :memory:), WAL journal (set here if missing),
// a busy timeout of at least 1 s, and transactions that begin IMMEDIATE
// (or a pool of one connection). SQLiteDSN builds such a DSN. Callbacks
// get the job's transaction with Tx[*sql.Tx].
//
// SQLite is one machine and one writer at a time: every replica must run
// on the machine holding the file (processes sharing it take turns to
// write), and a writer blocked longer than the busy timeout makes Enqueue
// fail (the receiver answers 503 and the vendor retries).
func NewSQLite(db *sql.DB, opts ...Option) (*Inbox[*sql.Tx], error) {
	if db == nil {
		return nil, fmt.Errorf("%w: riverinbox.NewSQLite: nil db", webhook.ErrInvalidOption)
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.schemaSet && cfg.schema != "" {
		return nil, fmt.Errorf("%w: riverinbox.WithSchema: SQLite keeps the inbox in the main database (an attached one would not commit atomically with it)", webhook.ErrInvalidOption)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := checkSQLite(ctx, db); err != nil {
		return nil, fmt.Errorf("%w: %w", webhook.ErrInvalidOption, err)
	}
	return newInbox(sqlBackend(db, true), append(opts, WithSchema("")))
}

func newInbox[TTx any](b *backend[TTx], opts []Option) (*Inbox[TTx], error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.pollEvery == 0 {
		cfg.pollEvery = time.Second
		if !b.pgx {
			cfg.pollEvery = 100 * time.Millisecond
		}
	}
	in := &Inbox[TTx]{b: b, cfg: cfg, receivers: map[string]func(context.Context, *webhook.Event) error{}}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker[TTx]{in: in}); err != nil {
		return nil, fmt.Errorf("riverinbox: %w", err)
	}
	rc := &river.Config{
		Schema:                      cfg.schema,
		Queues:                      map[string]river.QueueConfig{cfg.queue: {MaxWorkers: cfg.workers}},
		Workers:                     workers,
		MaxAttempts:                 cfg.maxAttempts,
		JobTimeout:                  cfg.jobTimeout,
		RescueStuckJobsAfter:        cfg.rescueAfter,
		CompletedJobRetentionPeriod: cfg.retention,
		DiscardedJobRetentionPeriod: cfg.discarded,
		CancelledJobRetentionPeriod: cfg.discarded,
		FetchPollInterval:           cfg.pollEvery,
		// A short cooldown lets a replica fetch again as soon as workers
		// free up: River's 100 ms default caps a burst's drain at about
		// ten fetches a second.
		FetchCooldown: min(cfg.pollEvery, 5*time.Millisecond),
		Logger:        cfg.logger,
		ErrorHandler:  &errorHandler{log: cfg.logger},
		RetryPolicy:   &attemptRetryPolicy{},
	}
	if in.dropsJSONIndexes() {
		// Migrate dropped them: River's reindexer would warn daily that
		// they do not exist.
		rc.ReindexerIndexNames = slices.DeleteFunc(river.ReindexerIndexNamesDefault(), func(n string) bool { return slices.Contains(jsonIndexes, n) })
	}
	client, err := river.NewClient(b.driver, rc)
	if err != nil {
		return nil, fmt.Errorf("%w: riverinbox: %w", webhook.ErrInvalidOption, err)
	}
	in.client = client
	in.batch = &batcher{max: cfg.maxBatch, flush: in.flush}
	return in, nil
}

// Client returns the River client, for operations River's own API covers
// (queue pauses, JobList); the inbox's own DeadLetters, Retry, Discard and
// Counts are the supported way to work the dead letter.
func (in *Inbox[TTx]) Client() *river.Client[TTx] { return in.client }

// Register implements webhook.Inbox. Every replica must register the same
// receivers: a job for a receiver this replica does not know fails and is
// retried (with backoff) until a replica that knows it takes it.
func (in *Inbox[TTx]) Register(receiver string, process func(context.Context, *webhook.Event) error) error {
	if process == nil {
		return fmt.Errorf("%w: riverinbox.Register %q: nil process func", webhook.ErrInvalidOption, receiver)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, dup := in.receivers[receiver]; dup {
		return fmt.Errorf("%w: riverinbox: receiver %q registered twice (use webhook.WithName to tell two endpoints apart)", webhook.ErrInvalidOption, receiver)
	}
	in.receivers[receiver] = process
	return nil
}

func (in *Inbox[TTx]) lookup(receiver string) func(context.Context, *webhook.Event) error {
	in.mu.RLock()
	defer in.mu.RUnlock()
	return in.receivers[receiver]
}

// Enqueue implements webhook.Inbox: it stores ev as a job and returns once
// the insert committed. Concurrent calls share one transaction (group
// commit, WithMaxBatch); a failed transaction fails only the deliveries
// it carried (and each is then tried on its own, so one delivery the
// database refuses fails only itself). A delivery whose key is already pending, running, retrying
// or completed (within WithRetention), or that appears twice in one
// batch, is stored once: the other calls return an error wrapping
// webhook.ErrDuplicate, which receivers answer 2xx. Any database error is
// returned (the receiver answers 503, the vendor retries). Ids holding a
// NUL or invalid UTF-8 are stored (escaped in ID, exact in IDRaw).
func (in *Inbox[TTx]) Enqueue(ctx context.Context, ev *webhook.Event) error {
	if ev == nil {
		return fmt.Errorf("%w: riverinbox.Enqueue: nil event", webhook.ErrMalformed)
	}
	name := ev.Provider + "/" + ev.Receiver
	if in.lookup(name) == nil {
		return fmt.Errorf("%w: riverinbox: no receiver %q registered", webhook.ErrInvalidOption, name)
	}
	if ev.ID == "" {
		return fmt.Errorf("%w: riverinbox: %s delivery has no id", webhook.ErrMalformed, ev.Provider)
	}
	args := newArgs(ev)
	if in.cfg.maxBatch == 1 {
		res, err := in.client.Insert(ctx, args, in.insertOpts())
		if err != nil {
			return fmt.Errorf("riverinbox: storing %s delivery %s: %w", args.Provider, args.ID, err)
		}
		if res.UniqueSkippedAsDuplicate {
			return duplicate(args, res.Job)
		}
		return nil
	}
	return in.batch.submit(ctx, &pending{args: args, key: args.key(), done: make(chan struct{})})
}

// insertOpts: a delivery is unique within the inbox's queue. Two inboxes
// on one database with their own queues (WithQueue) are two inboxes: the
// same delivery stored in both is processed by each (River's ByArgs alone
// would make one queue's job swallow the other's as a duplicate). In
// DefaultQueue the unique key leaves the queue out, as before queues were
// told apart, so jobs stored by an earlier version still catch their
// redeliveries; no other queue's key can equal it (River adds the queue
// to those).
func (in *Inbox[TTx]) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: in.cfg.queue, MaxAttempts: in.cfg.maxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByQueue: in.cfg.queue != DefaultQueue}}
}

// processedKey is the delivery's key in the processed table: in the
// default queue the delivery's own key, in another queue that key
// qualified by the queue (an inbox on its own queue processes its own
// copy of a delivery).
func (in *Inbox[TTx]) processedKey(a DeliveryArgs) string {
	if in.cfg.queue == DefaultQueue {
		return a.key()
	}
	return a.key(in.cfg.queue)
}

func duplicate(a DeliveryArgs, job *rivertype.JobRow) error {
	if job == nil {
		return fmt.Errorf("%w: riverinbox: %s delivery %s stored twice in one batch", webhook.ErrDuplicate, a.Provider, a.ID)
	}
	return fmt.Errorf("%w: riverinbox: %s delivery %s already stored (job %d, %s)", webhook.ErrDuplicate, a.Provider, a.ID, job.ID, job.State)
}

// flush stores one batch in one transaction.
func (in *Inbox[TTx]) flush(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	first := make(map[string]int, len(batch))
	var params []river.InsertManyParams
	var idx []*pending
	opts := in.insertOpts()
	for _, p := range batch {
		if _, seen := first[p.key]; seen {
			continue
		}
		first[p.key] = len(params)
		params = append(params, river.InsertManyParams{Args: p.args, InsertOpts: opts})
		idx = append(idx, p)
	}
	res, err := in.insertMany(ctx, params)
	errs := make([]error, len(params))
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		if len(params) > 1 && ctx.Err() == nil {
			// One delivery the database refuses must not fail the
			// deliveries that happened to share its transaction: store
			// each on its own (during an outage each fails fast again).
			res = make([]*rivertype.JobInsertResult, len(params))
			for i := range params {
				one, oneErr := in.insertMany(ctx, params[i:i+1])
				if errs[i] = oneErr; oneErr == nil {
					res[i] = one[0]
				}
			}
		}
	}
	for _, p := range batch {
		i := first[p.key]
		switch {
		case errs[i] != nil:
			p.err = fmt.Errorf("riverinbox: storing %s delivery %s: %w", p.args.Provider, p.args.ID, errs[i])
		case idx[i] != p:
			p.err = duplicate(p.args, res[i].Job)
		case res[i].UniqueSkippedAsDuplicate:
			p.err = duplicate(p.args, res[i].Job)
		}
		close(p.done)
	}
}

func (in *Inbox[TTx]) insertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	tx, err := in.b.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = in.b.rollback(context.WithoutCancel(ctx), tx) }()
	res, err := in.client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return nil, err
	}
	if err := in.b.commit(ctx, tx); err != nil {
		return nil, err
	}
	return res, nil
}

// Start starts this replica's workers. Cancelling ctx stops them like
// Stop (River's soft stop); use a context that lives as long as the
// process and call Stop on shutdown.
func (in *Inbox[TTx]) Start(ctx context.Context) error {
	if err := in.client.Start(ctx); err != nil {
		return fmt.Errorf("riverinbox: start: %w", err)
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	in.mu.Lock()
	in.stop = cancel
	in.mu.Unlock()
	go in.cleanProcessed(cctx)
	return nil
}

// Stop stops fetching deliveries and waits for running callbacks. If ctx
// ends first their contexts are cancelled and Stop returns ctx's error;
// the unfinished deliveries stay in the database and are retried after
// WithRescueAfter (nothing acknowledged is lost). Stop receivers first.
func (in *Inbox[TTx]) Stop(ctx context.Context) error {
	in.mu.Lock()
	if in.stop != nil {
		in.stop()
	}
	in.mu.Unlock()
	err := in.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = in.client.StopAndCancel(hard)
	return fmt.Errorf("riverinbox: stop: %w (unfinished deliveries are retried after the rescue delay)", err)
}

func (in *Inbox[TTx]) table(name string) string {
	if in.cfg.schema == "" {
		return name
	}
	return in.cfg.schema + "." + name
}

// processedKeep is how long the processed table remembers a delivery
// written through Tx: as long as a dead letter or a completed job can be
// retried or redelivered, and a day more.
func (in *Inbox[TTx]) processedKeep() time.Duration {
	return max(in.cfg.retention, in.cfg.discarded) + 24*time.Hour
}

func (in *Inbox[TTx]) cleanProcessed(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		cutoff := time.Now().Add(-in.processedKeep()).Unix()
		if _, err := in.b.exec(ctx, in.b.q("DELETE FROM "+in.table("callcrm_inbox_processed")+" WHERE processed_at < $1"), cutoff); err != nil && ctx.Err() == nil && in.cfg.logger != nil {
			in.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "riverinbox: cleaning the processed table", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Migrate runs River's migrations up (rivermigrate) for this inbox's
// database and schema, and creates the inbox's own table
// (callcrm_inbox_processed); on PostgreSQL it creates the schema if
// needed. It is safe to call from every replica at startup (on PostgreSQL
// an advisory lock serialises concurrent calls).
//
// In a named PostgreSQL schema (DefaultSchema, or WithSchema with a name:
// the inbox's own, see WithSchema) it also drops River's two GIN indexes
// on river_job.args and river_job.metadata (see jsonIndexes), without
// blocking writers, and takes them off River's reindexer's list. No query
// the inbox or River runs needs them, every stored delivery paid
// for indexing its raw body, and their pending-list cleanup stalled an
// insert every few thousand deliveries. With WithSchema(""), a schema
// other River clients may share, they are left alone.
func (in *Inbox[TTx]) Migrate(ctx context.Context) error {
	if in.b.lock != nil {
		f := fnv.New64a()
		f.Write([]byte("callcrm riverinbox migrate " + in.cfg.schema))
		unlock, err := in.b.lock(ctx, int64(f.Sum64()))
		if err != nil {
			return fmt.Errorf("riverinbox: migrate: %w", err)
		}
		defer unlock()
		if in.cfg.schema != "" {
			if _, err := in.b.exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+in.cfg.schema); err != nil {
				return fmt.Errorf("riverinbox: migrate: %w", err)
			}
		}
	}
	m, err := rivermigrate.New(in.b.driver, &rivermigrate.Config{Schema: in.cfg.schema, Logger: in.cfg.logger})
	if err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	drop := in.dropsJSONIndexes() && !migrationsMention(m.AllVersions(), jsonIndexes)
	if in.dropsJSONIndexes() && !drop {
		// A River version whose later migrations use the indexes: put
		// them back before those migrations run (if River's tables are
		// there yet), and keep them.
		rows, err := in.b.queryPairs(ctx, in.b.q("SELECT tablename, 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'river_job'"), in.cfg.schema)
		if err != nil {
			return fmt.Errorf("riverinbox: migrate: %w", err)
		}
		for _, ix := range jsonIndexes {
			col := strings.TrimSuffix(strings.TrimPrefix(ix, "river_job_"), "_index")
			if len(rows) == 0 { // a fresh schema: River's migrations create them
				continue
			}
			if _, err := in.b.exec(ctx, "CREATE INDEX IF NOT EXISTS "+ix+" ON "+in.cfg.schema+".river_job USING GIN("+col+")"); err != nil {
				return fmt.Errorf("riverinbox: migrate: %w", err)
			}
		}
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	if drop {
		for _, ix := range jsonIndexes {
			// CONCURRENTLY: the first drop on a live table does not queue
			// deliveries behind an ACCESS EXCLUSIVE lock. It is only an
			// optimisation, so a failure (an invalid index is left, which
			// the next start drops) is logged, not returned.
			if _, err := in.b.exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+in.cfg.schema+"."+ix); err != nil && in.cfg.logger != nil {
				in.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "riverinbox: migrate: dropping an unused River index failed; the next Migrate retries",
					slog.String("index", ix), slog.String("error", err.Error()))
			}
		}
	}
	ddl := "CREATE TABLE IF NOT EXISTS " + in.table("callcrm_inbox_processed") + " (key TEXT PRIMARY KEY, job_id BIGINT NOT NULL, processed_at BIGINT NOT NULL)"
	if _, err := in.b.exec(ctx, ddl); err != nil {
		return fmt.Errorf("riverinbox: migrate: %w", err)
	}
	return nil
}

// jsonIndexes are River's GIN indexes on river_job's JSON columns, which
// Migrate drops in the inbox's own schema. River's migrations create them
// in version 2 and touch them nowhere else (River's SQLite driver leaves
// them out altogether); TestJSONIndexesOnlyInRiverMigration2 fails on a
// River upgrade whose migrations mention them, since a migration that
// expects them would then fail here.
//
// Measured (BenchmarkInbox, pgx, 50 senders, 2 cores): without them the
// batched inbox stores 7,100-7,550 deliveries/s closed-loop against
// 5,900-6,100 with them, and at an offered 4,000/s its p99 time to 2xx is
// 17-19 ms against 98 ms (the GIN pending-list cleanup).
var jsonIndexes = []string{"river_job_args_index", "river_job_metadata_index"}

// dropsJSONIndexes reports whether Migrate drops jsonIndexes: on
// PostgreSQL, in a named schema (the inbox's own).
func (in *Inbox[TTx]) dropsJSONIndexes() bool { return !in.b.sqlite && in.cfg.schema != "" }

// migrationsMention reports whether a River migration other than version
// 2 (which creates them) mentions any of names: the River in the
// program's build may be newer than the one this package was tested with.
func migrationsMention(all []rivermigrate.Migration, names []string) bool {
	for _, m := range all {
		if m.Version == 2 {
			continue
		}
		for _, n := range names {
			if strings.Contains(m.SQLUp, n) || strings.Contains(m.SQLDown, n) {
				return true
			}
		}
	}
	return false
}

// markProcessed records in tx that the delivery was processed through Tx;
// false when another attempt already did (its transaction committed).
func (in *Inbox[TTx]) markProcessed(ctx context.Context, tx TTx, a DeliveryArgs, jobID int64) (bool, error) {
	n, err := in.b.execTx(ctx, tx, in.b.q("INSERT INTO "+in.table("callcrm_inbox_processed")+
		" (key, job_id, processed_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING"), in.processedKey(a), jobID, time.Now().Unix())
	return n == 1, err
}

// wasProcessed reports whether the delivery was already processed through
// Tx (by this job's earlier attempt or by another job for the same key).
func (in *Inbox[TTx]) wasProcessed(ctx context.Context, a DeliveryArgs) (bool, error) {
	rows, err := in.b.queryPairs(ctx, in.b.q("SELECT key, job_id FROM "+in.table("callcrm_inbox_processed")+" WHERE key = $1"), in.processedKey(a))
	return len(rows) > 0, err
}

// worker is the one River worker: it finds the receiver by name and runs
// its process func, completing the job in the callback's transaction when
// the callback used Tx.
type worker[TTx any] struct {
	river.WorkerDefaults[DeliveryArgs]
	in *Inbox[TTx]
}

func (w *worker[TTx]) Work(ctx context.Context, job *river.Job[DeliveryArgs]) (err error) {
	// River reads the error's message outside its panic recovery: a
	// user's error whose Error method panics would crash the process.
	defer func() {
		if err != nil {
			err = &jobError{err}
		}
	}()
	in := w.in
	a := job.Args
	if obs := in.cfg.observer; obs != nil {
		var end func(webhook.Result)
		ctx, end = startJob(ctx, obs, a, job.Attempt, in.cfg.logger)
		t0 := time.Now()
		defer func() {
			out := webhook.OutcomeProcessed
			var cancelled *river.JobCancelError
			switch {
			case err == nil:
			case errors.As(err, &cancelled), job.Attempt >= job.MaxAttempts:
				out = webhook.OutcomeDeadLettered
			default:
				out = webhook.OutcomeRetried
			}
			safeEnd(end, webhook.Result{Outcome: out, Err: err, DeliveryID: a.ID, EventType: a.Type, Duration: time.Since(t0)}, in.cfg.logger)
		}()
	}
	name := a.Provider + "/" + a.Receiver
	process := in.lookup(name)
	if process == nil {
		return fmt.Errorf("riverinbox: no receiver %q registered on this replica", name)
	}
	if job.Attempt > 1 || len(job.Errors) > 0 {
		// A retry (or a retried dead letter): if an earlier attempt or
		// another job for the same delivery committed through Tx, it is
		// done; do not run the callback again.
		done, err := in.wasProcessed(ctx, a)
		if err != nil {
			return fmt.Errorf("riverinbox: checking whether the delivery was processed: %w", err)
		}
		if done {
			in.logf(ctx, slog.LevelInfo, "riverinbox: delivery already processed through Tx; completing without running it again", job.JobRow)
			return nil
		}
	}
	h := &txHolder[TTx]{begin: in.b.begin, ctx: ctx}
	panicked, perr := runProcess(context.WithValue(ctx, txKey{}, h), process, a.Event())
	h.mu.Lock()
	defer h.mu.Unlock()
	h.done = true
	if panicked != nil {
		// End the callback's transaction before River's executor
		// recovers the panic: pgx does not roll a transaction back when
		// its context ends, so it would keep its connection and locks
		// for good (the delivery's retry waiting on them).
		if h.started && h.beginErr == nil {
			_ = in.b.rollback(context.WithoutCancel(ctx), h.tx)
		}
		panic(panicked)
	}
	if h.beginErr != nil {
		return fmt.Errorf("riverinbox: beginning the callback's transaction: %w", h.beginErr)
	}
	if !h.started {
		return in.classify(ctx, job, perr)
	}
	tx := h.tx
	defer func() { _ = in.b.rollback(context.WithoutCancel(ctx), tx) }()
	if perr != nil {
		return in.classify(ctx, job, perr)
	}
	// The processed row is the arbiter: its primary key lets exactly one
	// transaction per delivery commit. River's JobCompleteTx alone is not
	// enough: it returns the row unchanged (no error) when the job is no
	// longer running, and a resumed stale attempt's completer can complete
	// the row of the attempt that rescued it.
	first, err := in.markProcessed(ctx, tx, a, job.ID)
	if err != nil {
		return fmt.Errorf("riverinbox: recording the delivery as processed: %w", err)
	}
	if !first {
		in.logf(ctx, slog.LevelWarn, "riverinbox: another attempt already committed this delivery through Tx; rolling this one back", job.JobRow)
		return nil
	}
	done, err := river.JobCompleteTx[riverdriver.Driver[TTx]](ctx, tx, job)
	if err != nil {
		return fmt.Errorf("riverinbox: completing job in the callback's transaction: %w", err)
	}
	if done.State != rivertype.JobStateCompleted {
		// The job was rescued and waits to run again: committing is still
		// right (the processed row makes the next run a no-op).
		in.logf(ctx, slog.LevelWarn, "riverinbox: job no longer running when its callback finished (rescued); committing once, the next run will skip it", job.JobRow)
	}
	if err := in.b.commit(ctx, tx); err != nil {
		return fmt.Errorf("riverinbox: committing the callback's transaction: %w", err)
	}
	return nil
}

// runProcess runs process on its own goroutine, so that a callback
// calling runtime.Goexit fails its attempt instead of ending River's
// executor goroutine (which would keep the job running and its worker
// slot taken). A panic is recovered there and returned, for the caller
// to end the callback's transaction and panic again.
func runProcess(ctx context.Context, process func(context.Context, *webhook.Event) error, ev *webhook.Event) (panicked any, err error) {
	type outcome struct {
		err      error
		panicked any
	}
	done := make(chan outcome, 1)
	go func() {
		out := outcome{err: fmt.Errorf("%w: riverinbox: the callback called runtime.Goexit", webhook.ErrCallbackFailed)}
		defer func() {
			if p := recover(); p != nil {
				out.panicked = p
			}
			done <- out
		}()
		out.err = process(ctx, ev)
	}()
	out := <-done
	return out.panicked, out.err
}

// classify turns a callback error into River's: a stored body that no
// longer parses never heals, so it is dead-lettered at once.
func (in *Inbox[TTx]) classify(ctx context.Context, job *river.Job[DeliveryArgs], err error) error {
	if err == nil {
		return nil
	}
	var cb *webhook.CallbackError
	if errors.Is(err, webhook.ErrMalformed) && !errors.As(err, &cb) {
		in.logf(ctx, slog.LevelError, "riverinbox: delivery dead-lettered: its body does not parse", job.JobRow, slog.String("error", errtext.Of(err)))
		return river.JobCancel(err)
	}
	return err
}

func (in *Inbox[TTx]) logf(ctx context.Context, level slog.Level, msg string, job *rivertype.JobRow, more ...slog.Attr) {
	if in.cfg.logger != nil {
		in.cfg.logger.LogAttrs(ctx, level, msg, jobAttrs(job, more...)...)
	}
}

type txKey struct{}

type txHolder[TTx any] struct {
	begin    func(context.Context) (TTx, error)
	ctx      context.Context
	mu       sync.Mutex
	tx       TTx
	started  bool
	beginErr error
	done     bool
}

// Tx returns the transaction of the delivery being processed, beginning it
// on first use, in the type of the inbox's driver: Tx[pgx.Tx] for NewPgx,
// Tx[*sql.Tx] for NewSQL and NewSQLite. ok is false outside a River inbox
// callback, for the wrong type, after the callback returned, or if the
// transaction could not begin (the delivery is then retried whatever the
// callback returns).
//
// When the callback returns nil the delivery is recorded as processed and
// the job marked completed in this transaction, and it is committed, so
// the callback's writes land exactly once: a crash, a retry, a paused
// replica whose job was rescued and run elsewhere, a retried dead letter
// or a resend of the same delivery never applies them twice (a second
// attempt's transaction is rolled back). On error it is rolled back. Do
// not commit or roll it back yourself; it is not for concurrent use.
func Tx[TTx any](ctx context.Context) (TTx, bool) {
	var zero TTx
	h, _ := ctx.Value(txKey{}).(*txHolder[TTx])
	if h == nil {
		return zero, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return zero, false
	}
	if !h.started {
		h.started = true
		tx, err := h.begin(h.ctx)
		if err != nil {
			h.beginErr = err
		} else {
			h.tx = tx
		}
	}
	if h.beginErr != nil {
		return zero, false
	}
	return h.tx, true
}

// attemptRetryPolicy is River's default backoff (attempt^4 seconds, with
// jitter) counted on the job's attempts instead of its recorded errors
// (which River's default counts). They are the same number, except for a
// dead letter Retry made available again: its attempts are reset and its
// errors kept (they are its history, and they tell Work that an earlier
// attempt may have committed), and its backoff starts again at a second
// instead of continuing from days.
type attemptRetryPolicy struct{ river.DefaultClientRetryPolicy }

func (p *attemptRetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	if n := max(job.Attempt-1, 0); n < len(job.Errors) {
		cp := *job
		cp.Errors = job.Errors[len(job.Errors)-n:]
		job = &cp
	}
	return p.DefaultClientRetryPolicy.NextRetry(job)
}

// errorHandler logs failed attempts without bodies.
type errorHandler struct{ log *slog.Logger }

func (e *errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	var cancelled *river.JobCancelError
	if e.log != nil && !errors.As(err, &cancelled) { // a cancel was logged once where it was decided
		msg := "riverinbox: delivery failed"
		if job.Attempt >= job.MaxAttempts {
			msg = "riverinbox: delivery dead-lettered after its last attempt"
		}
		e.log.LogAttrs(ctx, slog.LevelError, msg, jobAttrs(job, slog.String("error", err.Error()))...)
	}
	return nil
}

func (e *errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, panicVal any, trace string) *river.ErrorHandlerResult {
	if e.log != nil {
		e.log.LogAttrs(ctx, slog.LevelError, "riverinbox: delivery panicked", jobAttrs(job,
			slog.String("error", fmt.Sprint(panicVal)), slog.String("stack", trace))...)
	}
	return nil
}

func jobAttrs(job *rivertype.JobRow, more ...slog.Attr) []slog.Attr {
	attrs := []slog.Attr{slog.Int64("job", job.ID), slog.Int("attempt", job.Attempt), slog.Int("max_attempts", job.MaxAttempts)}
	var a DeliveryArgs
	if json.Unmarshal(job.EncodedArgs, &a) == nil {
		attrs = append(attrs, slog.String("provider", a.Provider), slog.String("receiver", a.Receiver),
			slog.String("delivery_id", a.ID), slog.String("event", a.Type))
	}
	return append(attrs, more...)
}

var (
	_ webhook.Inbox = (*Inbox[pgx.Tx])(nil)
	_ webhook.Inbox = (*Inbox[*sql.Tx])(nil)
)

// flushFunc exposes flush to the package's tests.
func (in *Inbox[TTx]) flushFunc() func([]*pending) { return in.flush }

// jobError is the error a job returns to River: err, whose message is
// read safely (errtext.Of), so a user's error with a panicking Error method
// fails its attempt instead of River's executor. River's own errors
// (JobCancel, JobSnooze) are found through Unwrap.
type jobError struct{ err error }

func (e *jobError) Error() string { return errtext.Of(e.err) }

func (e *jobError) Unwrap() error { return e.err }
